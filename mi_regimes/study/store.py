"""One verified JSON file per finished run: written atomically, checked before it is trusted.

A result file holds the run's key, what was measured, and a SHA-256 of its content; a file
that does not parse, whose checksum or key does not match, or that was measured
differently, is not trusted: the run is done again. Killing the runner at any moment
leaves either a complete file or none (the write is a rename; a temporary file cut short is
never read as a result and is removed by the next run), so no finished run is lost and none
is duplicated. One runner per folder at a time.
"""

from __future__ import annotations

import hashlib
import json
import os

from .._io import json_safe, write_text

__all__ = ["ResultStore"]


def _digest(payload: dict) -> str:
    text = json.dumps(payload, sort_keys=True, allow_nan=False)
    return hashlib.sha256(text.encode()).hexdigest()


class ResultStore:
    """The results folder of a study (``DIR/runs/*.json``)."""

    def __init__(self, folder) -> None:
        self.folder = os.path.abspath(folder)
        self.runs = os.path.join(self.folder, "runs")

    def path(self, key: str) -> str:
        name = hashlib.sha1(key.encode()).hexdigest()[:16]
        return os.path.join(self.runs, f"{name}.json")

    def write(self, key: str, result: dict) -> str:
        """Store one run's result atomically, with its checksum."""
        os.makedirs(self.runs, exist_ok=True)
        payload = json_safe(result)
        payload["key"] = key
        return write_text(self.path(key), json.dumps(
            {"sha256": _digest(payload), "result": payload}, allow_nan=False) + "\n")

    def read(self, key: str, measurement: dict | None = None) -> dict | None:
        """The stored result of ``key`` if it is complete and verified, else None."""
        try:
            with open(self.path(key)) as f:
                record = json.load(f)
            result = record["result"]
        except (OSError, ValueError, KeyError, TypeError):
            return None
        if record.get("sha256") != _digest(result) or result.get("key") != key:
            return None
        if measurement is not None and result.get("measurement") != json_safe(measurement):
            return None
        return result

    def results(self) -> list[dict]:
        """Every verified result in the folder (any key)."""
        out = []
        if not os.path.isdir(self.runs):
            return out
        for name in sorted(os.listdir(self.runs)):
            if name.startswith(".") or not name.endswith(".json"):
                continue  # a write in progress (or cut short by a kill) is not a result
            try:
                with open(os.path.join(self.runs, name)) as f:
                    record = json.load(f)
                result = record["result"]
            except (OSError, ValueError, KeyError, TypeError):
                continue
            if (record.get("sha256") == _digest(result)
                    and os.path.basename(self.path(str(result.get("key")))) == name):
                out.append(result)
        return out

    def remove_stale_writes(self) -> int:
        """Delete temporary files a killed runner left behind (one runner per folder)."""
        if not os.path.isdir(self.runs):
            return 0
        stale = [n for n in os.listdir(self.runs) if n.startswith(".tmp-")]
        for name in stale:
            os.remove(os.path.join(self.runs, name))
        return len(stale)
