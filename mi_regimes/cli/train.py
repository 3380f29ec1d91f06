"""``mi-regimes train``: train a binary MLP and write a run folder with its recording."""

from __future__ import annotations

import argparse
import json
import os

from ._common import CliError, fraction, int_list, user_input

HELP = "train a binary MLP, recording every binary layer (a run folder)"


def add_parser(sub, fmt) -> None:
    t = sub.add_parser(
        "train", formatter_class=fmt, help=HELP,
        description="Train a BinaryMLP (NumPy + Numba, packed XNOR-popcount forward, "
                    "straight-through backward) and write RUN/: model.npz (reloadable), "
                    "recording.npz (every binary layer on the train and test inputs at "
                    "log-spaced epochs, and on all 4096 inputs for tishby12), history.json, "
                    "config.json (arguments, model configuration, package versions).",
        epilog="examples:\n  mi-regimes train --out run-tishby\n"
               "  mi-regimes train --data digits --widths 64,256,256 --epochs 30 "
               "--batch-size 64 --label-noise 0.2 --out run-digits")
    t.add_argument("--data", default="tishby12",
                   help="tishby12, digits, mnist1d or mnist5k (default tishby12)")
    t.add_argument("--widths", default="12,10,7,5,4",
                   help="inputs, then the width of each binary layer (default 12,10,7,5,4)")
    t.add_argument("--epochs", type=int, default=300, help="default 300")
    t.add_argument("--batch-size", type=int, default=256, help="default 256")
    t.add_argument("--lr", type=float, default=1e-2, help="peak learning rate, default 0.01")
    t.add_argument("--lr-schedule", default="cosine", help="cosine, constant or step")
    t.add_argument("--weight-decay", type=float, default=0.0)
    t.add_argument("--dropout", type=float, default=0.0)
    t.add_argument("--label-noise", type=float, default=0.0,
                   help="share of training labels flipped (default 0)")
    t.add_argument("--snapshots", type=int, default=100,
                   help="number of log-spaced epochs recorded (default 100)")
    t.add_argument("--binarize-input", action="store_true",
                   help="the first layer sees sign(x - 0.5) and runs packed too")
    t.add_argument("--seed", type=int, default=0, help="the run's seed (rng), default 0")
    t.add_argument("--out", required=True, metavar="RUN", help="run folder to write")
    t.add_argument("--overwrite", action="store_true",
                   help="replace the run already in RUN (refused otherwise)")
    t.add_argument("--quiet", action="store_true", help="no progress bar")
    t.set_defaults(func=run)


#: What a run folder holds (docs/cli.md).
RUN_FILES = ("model.npz", "recording.npz", "history.json", "config.json")


def run(args: argparse.Namespace) -> int:
    from .._io import write_json
    from ..bnn import BinaryMLP, Recorder, datasets, fit
    from ..bnn.checkpoint import package_versions
    from ..bnn.recording import check_snapshot_count

    if args.data not in datasets.NAMES:
        raise CliError(f"--data: unknown data set {args.data!r}; choose one of "
                       f"{', '.join(datasets.NAMES)}")
    widths = int_list(args.widths, "--widths")
    if len(widths) < 2 or min(widths) < 1:
        raise CliError(f"--widths: need the number of inputs then at least one hidden width, "
                       f"each >= 1; got {args.widths!r}")
    if args.epochs < 1 or args.batch_size < 2:
        raise CliError("--epochs must be >= 1, --batch-size >= 2")
    with user_input():  # the recorder's own check, before anything is loaded
        check_snapshot_count("n_snapshots", args.snapshots)
    if args.dropout:
        fraction(args.dropout, "--dropout")
    folder = os.path.abspath(args.out)
    if os.path.exists(folder) and not os.path.isdir(folder):
        raise CliError(f"--out: {args.out!r} exists and is not a folder")
    if not os.path.isdir(os.path.dirname(folder)):
        raise CliError(f"--out: the folder holding {args.out!r} does not exist")
    existing = [f for f in RUN_FILES if os.path.exists(os.path.join(folder, f))]
    if existing and not args.overwrite:  # checked before training, not after
        raise CliError(f"--out: {args.out!r} already holds a run ({', '.join(existing)}); "
                       "choose another folder, or pass --overwrite to replace it")
    with user_input():
        data = datasets.load(args.data, rng=args.seed)
        if widths[0] != data.n_features:
            raise CliError(f"--widths: {args.data} has {data.n_features} inputs; start "
                           f"--widths with {data.n_features}")
        model = BinaryMLP(widths, n_classes=data.n_classes, rng=args.seed,
                          dropout=args.dropout, binarize_input=args.binarize_input)
        extra = {}
        if args.data == "tishby12":  # the whole population: planes against the truth
            extra["population"] = datasets.tishby12()
        recorder = Recorder(n_snapshots=args.snapshots, extra=extra)
        config = {"data": args.data, "widths": widths, "epochs": args.epochs,
                  "batch_size": args.batch_size, "lr": args.lr,
                  "lr_schedule": args.lr_schedule, "weight_decay": args.weight_decay,
                  "dropout": args.dropout, "label_noise": args.label_noise,
                  "snapshots": args.snapshots, "binarize_input": args.binarize_input,
                  "seed": args.seed}
        history = fit(model, data, args.epochs, args.batch_size, args.lr, args.seed,
                      lr_schedule=args.lr_schedule, weight_decay=args.weight_decay,
                      label_noise=args.label_noise, record=recorder,
                      progress=not args.quiet)
    os.makedirs(folder, exist_ok=True)
    model.save(os.path.join(folder, "model.npz"))
    history.recording.save(os.path.join(folder, "recording.npz"))
    write_json(os.path.join(folder, "history.json"), history.as_dict())
    write_json(os.path.join(folder, "config.json"),
               {"train": config, "model": model.get_config(), "versions": package_versions()})
    print(f"trained {args.data} {args.widths} for {args.epochs} epochs: train accuracy "
          f"{history.train_acc[-1]:.3f}, test accuracy {history.test_acc[-1]:.3f}")
    print(f"wrote {folder}/ ({', '.join(RUN_FILES)})")
    print(json.dumps({"run": folder, "snapshots": len(history.recording.epochs)}))
    return 0
