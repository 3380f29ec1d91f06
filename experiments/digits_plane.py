"""A digits information plane, in both modes, from the command line tools.

Trains ``64-128-16-6`` (one wide layer that saturates at the training set's N, two narrow
ones inside the reliable regime) on the bundled 8x8 digits for 150 epochs, then draws:

* ``docs/img/digits_plane_population.png``: population mode, plug-in estimates with their
  intervals and verdicts (the training images as a sample of all digit images);
* ``docs/img/digits_plane_empirical.png``: empirical mode, exact values for X uniform over
  the recorded training images.

Run: ``python experiments/digits_plane.py`` (about 1 min on two cores). It runs exactly
``mi-regimes train`` and ``mi-regimes infoplane``, so it shows what a user gets.
"""

from __future__ import annotations

import os
import tempfile
import time

from mi_regimes.cli import main as cli

HERE = os.path.dirname(os.path.abspath(__file__))
IMG = os.path.join(HERE, os.pardir, "docs", "img")


def run() -> None:
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        folder = os.path.join(tmp, "digits")
        assert cli(["train", "--data", "digits", "--widths", "64,128,16,6", "--epochs", "150",
                    "--batch-size", "64", "--seed", "0", "--out", folder]) == 0
        for mode in ("population", "empirical"):
            out = os.path.join(IMG, f"digits_plane_{mode}.png")
            assert cli(["infoplane", folder, "--mode", mode, "--out", out,
                        "--json", os.path.join(tmp, f"{mode}.json")]) == 0
    print(f"done in {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    run()
