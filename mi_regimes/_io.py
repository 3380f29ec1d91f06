"""Atomic file writes: a reader never sees a partial file, a crash leaves the old one.

Every file the package writes (figures, tables, recordings, models, study results) goes
through :func:`atomic_write`: the content is written to a temporary file in the same
folder, flushed and fsynced, then renamed over the target (``os.replace`` is atomic on
POSIX and Windows within one file system).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable

import numpy as np

__all__ = ["atomic_write", "write_json", "write_text", "json_safe", "markdown_table",
           "open_npz"]


def atomic_write(path, write: Callable, *, binary: bool = True) -> str:
    """Write a file atomically.

    Parameters
    ----------
    path : str or os.PathLike
        Target file; its folder must exist.
    write : callable
        ``write(file_object)`` writes the content (e.g. ``lambda f: np.savez(f, ...)``).
    binary : bool
        Open the temporary file in binary (default) or text mode.

    Returns
    -------
    str
        ``path``.
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"{path}: folder {folder!r} does not exist; create it first")
    if os.path.isdir(path):  # os.replace raised IsADirectoryError naming the temporary file
        raise IsADirectoryError(f"{path}: is a folder; give the name of a file to write, "
                                "inside it or elsewhere")
    suffix = os.path.splitext(path)[1]
    fd, tmp = tempfile.mkstemp(suffix=suffix, dir=folder, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb" if binary else "w", **({} if binary else
                                                        {"encoding": "utf-8"})) as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the usual permissions
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    return path


def open_npz(path, what: str):
    """``np.load`` of an ``.npz`` archive the package wrote, or a ValueError naming ``what``.

    Without this, any file that is not an archive reaches NumPy's pickle check and the
    user reads advice about ``allow_pickle`` (pickles are never loaded here).
    """
    import zipfile

    try:
        archive = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise ValueError(f"{path}: not {what} (not an .npz archive: "
                         f"{type(exc).__name__})") from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise ValueError(f"{path}: not {what} (a single .npy array, not an .npz archive)")
    return archive


def write_text(path, text: str) -> str:
    """Write ``text`` (UTF-8) atomically."""
    return atomic_write(path, lambda f: f.write(text), binary=False)


def write_json(path, obj, indent: int | None = 2) -> str:
    """Write ``obj`` as JSON atomically (NaN written as null, keys in insertion order)."""
    return write_text(path, json.dumps(json_safe(obj), indent=indent, allow_nan=False)
                      + "\n")


def json_safe(obj):
    """``obj`` with NaN floats as None (JSON has no NaN) and NumPy scalars as Python
    numbers, in dicts, lists and tuples."""
    if isinstance(obj, float) and obj != obj:
        return None
    if isinstance(obj, dict):
        return {k: json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [json_safe(v) for v in obj]
    if isinstance(obj, np.generic):  # NumPy scalars from DataFrames and arrays
        return json_safe(obj.item())
    return obj


def markdown_table(table) -> str:
    """A pandas DataFrame as a Markdown table (floats to three decimals)."""
    if table is None or len(table) == 0:
        return "(none)\n"
    cols = [str(c) for c in table.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in table.itertuples(index=False):
        lines.append("| " + " | ".join(f"{v:.3f}" if isinstance(v, float) else str(v)
                                       for v in row) + " |")
    return "\n".join(lines) + "\n"
