"""Command-line options shared by every recipe (the common recipe interface).

Every recipe builds its parser with :func:`recipe_parser`, turns the parsed options into a
:class:`~lstm_nlp.training.TrainerConfig` with :func:`trainer_config` and writes its scores with
:func:`write_metrics`, so the training options here (optimiser, schedule, early stopping,
precision, checkpoints, ``--resume``, TensorBoard) reach every recipe without editing it.

Under ``torchrun`` only rank 0 writes: :func:`write_metrics` does nothing on other ranks, and the
parser points ``--output-dir`` of ranks > 0 at a private temporary folder (removed at exit), so a
recipe that saves its bundle unconditionally still leaves exactly one bundle in OUTPUT_DIR. The
real folder stays in ``args.main_output_dir``; :func:`trainer_config` uses it (every rank reads
checkpoints from it when resuming).
"""

from __future__ import annotations

import argparse
import atexit
import json
import logging
import os
import shutil
import tempfile
from pathlib import Path

from lstm_nlp.errors import ConfigError
from lstm_nlp.training.config import PRECISIONS, TrainerConfig
from lstm_nlp.training.distributed import env_rank, env_world_size, is_main_process
from lstm_nlp.training.optim import OPTIMIZERS, SCHEDULERS

REPO_ROOT = Path(__file__).resolve().parents[1]
SAMPLE_DIR = REPO_ROOT / "data"
CONFUSION_PNG = "confusion_matrix.png"

logger = logging.getLogger("lstm_nlp")


class RecipeArgumentParser(argparse.ArgumentParser):
    """``ArgumentParser`` that gives non-zero ``torchrun`` ranks a private ``--output-dir``."""

    def parse_known_args(self, args=None, namespace=None):
        parsed, extras = super().parse_known_args(args, namespace)
        if getattr(parsed, "output_dir", None) is not None and not hasattr(parsed, "main_output_dir"):
            parsed.main_output_dir = parsed.output_dir
            if env_world_size() > 1 and env_rank() != 0:
                scratch = tempfile.mkdtemp(prefix=f"lstm_nlp-rank{env_rank()}-")
                atexit.register(shutil.rmtree, scratch, ignore_errors=True)
                parsed.output_dir = scratch
        return parsed, extras


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows defaults, except where there is nothing to show (``None``, off flags) or the help says it."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default is None or action.default is False or "default:" in (action.help or ""):
            return action.help
        return super()._get_help_string(action)


def recipe_parser(description: str, *, epochs: int, batch_size: int, lr: float, output_dir: str,
                  **defaults) -> argparse.ArgumentParser:
    """An ``ArgumentParser`` with the options every recipe accepts.

    ``--train/--dev/--test`` take file paths (or hub ids where the recipe supports them); with no
    data arguments a recipe runs on the bundled sample under ``data/``.

    Args:
        description: The recipe's one-line description.
        epochs: Default ``--epochs``.
        batch_size: Default ``--batch-size``.
        lr: Default ``--lr``.
        output_dir: Default ``--output-dir``.
        **defaults: Other defaults by destination name, e.g. ``optimizer="sgd", scheduler="plateau",
            grad_clip=5.0, patience=5``.

    Raises:
        ConfigError: a key of ``defaults`` that is not an option.
    """
    parser = RecipeArgumentParser(description=description, formatter_class=_HelpFormatter,
                                  conflict_handler="resolve")  # a recipe may redefine any option below
    data = parser.add_argument_group("data")
    data.add_argument("--train", help="training data (default: the bundled sample)")
    data.add_argument("--dev", help="development data used to select the best epoch")
    data.add_argument("--test", help="held-out test data, evaluated once at the end")
    run = parser.add_argument_group("run")
    run.add_argument("--output-dir", default=output_dir, help="where metrics.json, logs and model/ are written")
    run.add_argument("--epochs", type=int, default=epochs, help="training epochs (the total, also with --resume)")
    run.add_argument("--batch-size", type=int, default=batch_size, help="examples per batch")
    run.add_argument("--lr", type=float, default=lr, help="learning rate")
    run.add_argument("--seed", type=int, default=1, help="random seed")
    run.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")
    run.add_argument("--no-progress", action="store_true", help="hide progress bars")
    _add_training_options(parser)
    unknown = sorted(set(defaults) - {action.dest for action in parser._actions})
    if unknown:
        raise ConfigError(f"recipe_parser: unknown default(s) {unknown}")
    parser.set_defaults(**defaults)
    return parser


def _add_training_options(parser: argparse.ArgumentParser) -> None:
    optim = parser.add_argument_group("optimisation")
    optim.add_argument("--optimizer", choices=OPTIMIZERS, default="adam", help="optimiser (sgd uses --momentum)")
    optim.add_argument("--weight-decay", type=float, default=0.0, help="L2 (adam, sgd) / decoupled (adamw) decay")
    optim.add_argument("--momentum", type=float, default=0.9, help="SGD momentum")
    optim.add_argument("--grad-clip", type=float, default=5.0, help="clip the gradient norm to this (0: off)")
    optim.add_argument("--grad-accum", type=int, default=1, help="batches per optimizer step")
    optim.add_argument("--scheduler", choices=SCHEDULERS, default="none",
                       help="lr schedule: plateau (x lr-factor after lr-patience epochs without dev gain), "
                            "linear (warm-up then linear decay), step (x lr-factor every lr-step-size epochs)")
    optim.add_argument("--warmup-steps", type=int, default=0, help="linear warm-up steps (scheduler linear)")
    optim.add_argument("--lr-factor", type=float, default=0.5, help="lr multiplier of plateau / step")
    optim.add_argument("--lr-patience", type=int, default=2, help="epochs without dev gain before plateau decays")
    optim.add_argument("--lr-step-size", type=int, default=1, help="epochs between step decays")
    optim.add_argument("--min-lr", type=float, default=0.0, help="lower bound of plateau")
    optim.add_argument("--patience", type=int, default=0,
                       help="early stopping: stop after this many epochs without dev gain (0: off)")
    optim.add_argument("--precision", choices=PRECISIONS, default="fp32",
                       help="mixed precision: bf16, fp16 (CUDA, with a gradient scaler), amp (bf16 or fp16 on CUDA)")
    optim.add_argument("--amp", dest="precision", action="store_const", const="amp",
                       help="shorthand for --precision amp (no effect on CPU)")
    runs = parser.add_argument_group("checkpoints and logging")
    runs.add_argument("--resume", nargs="?", const="auto", default=None, metavar="CHECKPOINT",
                      help="continue a run: the latest checkpoint in OUTPUT_DIR/checkpoints (no value), or a "
                           "checkpoint file/folder")
    runs.add_argument("--checkpoint-every", type=int, default=0,
                      help="also checkpoint every N optimizer steps (0: only at epoch ends)")
    runs.add_argument("--keep-checkpoints", type=int, default=2, help="recent checkpoints to keep (plus the best)")
    runs.add_argument("--no-checkpoints", action="store_true", help="write no checkpoints")
    runs.add_argument("--tensorboard", action="store_true",
                      help="log to OUTPUT_DIR/tensorboard (needs the tensorboard package)")


def trainer_config(args: argparse.Namespace, *, metric: str, mode: str = "max", **overrides) -> TrainerConfig:
    """The :class:`TrainerConfig` for the common recipe options in ``args``.

    Args:
        args: Parsed options of a :func:`recipe_parser` parser.
        metric: Dev metric that selects the best epoch.
        mode: ``"max"`` or ``"min"`` for ``metric``.
        **overrides: Any other ``TrainerConfig`` field, taking precedence over ``args``.
    """
    get = lambda name, default: getattr(args, name, default)  # noqa: E731  (recipes may drop options)
    patience = get("patience", 0)
    grad_clip = get("grad_clip", 5.0)
    values = dict(
        epochs=args.epochs, lr=args.lr, device=args.device, metric=metric, mode=mode,
        output_dir=get("main_output_dir", args.output_dir), progress=not get("no_progress", False), seed=args.seed,
        optimizer=get("optimizer", "adam"), weight_decay=get("weight_decay", 0.0), momentum=get("momentum", 0.9),
        grad_clip=grad_clip if grad_clip else None, grad_accum=get("grad_accum", 1),
        scheduler=get("scheduler", "none"), warmup_steps=get("warmup_steps", 0), lr_factor=get("lr_factor", 0.5),
        lr_patience=get("lr_patience", 2), lr_step_size=get("lr_step_size", 1), min_lr=get("min_lr", 0.0),
        patience=patience if patience else None, precision=get("precision", "fp32"),
        checkpoint_every=get("checkpoint_every", 0), keep_checkpoints=get("keep_checkpoints", 2),
        save_checkpoints=not get("no_checkpoints", False), resume=get("resume", None),
        tensorboard=get("tensorboard", False),
    )
    values.update(overrides)
    return TrainerConfig(**values)


def setup_logging() -> None:
    logging.basicConfig(level=os.environ.get("LSTM_NLP_LOGLEVEL", "INFO"), format="%(asctime)s %(message)s",
                        datefmt="%H:%M:%S")


def write_metrics(output_dir: str | os.PathLike, metrics: dict) -> Path:
    """Writes ``metrics.json`` ({split: {metric: value}}), each split's text report and ``confusion_matrix.png``.

    The confusion matrix is drawn from the ``"confusion"`` entry of the dev split (else test,
    else train) when a split has one. On ``torchrun`` ranks other than 0 nothing is written.

    Returns:
        The path of ``metrics.json``.
    """
    out = Path(output_dir)
    path = out / "metrics.json"
    if not is_main_process():
        return path
    out.mkdir(parents=True, exist_ok=True)
    summary = {}
    for split, values in metrics.items():
        if "report" in values:
            (out / f"report_{split}.txt").write_text(values["report"], encoding="utf-8")
        summary[split] = {k: v for k, v in values.items() if k not in ("report", "confusion")}
    path.write_text(json.dumps(summary, indent=2), encoding="utf-8")
    split = next((s for s in ("dev", "test", "train") if isinstance(metrics.get(s, {}).get("confusion"), dict)), None)
    if split is not None:
        from lstm_nlp.training.plots import plot_confusion_matrix

        try:
            plot_confusion_matrix(metrics[split]["confusion"], out / CONFUSION_PNG,
                                  title=f"Confusion matrix ({split})")
        except (KeyError, ValueError, OSError) as err:
            logger.warning("could not draw %s: %s", out / CONFUSION_PNG, err)
    return path


def save_model(pipeline, output_dir: str | os.PathLike) -> Path:
    """Saves the trained pipeline's bundle to ``OUTPUT_DIR/model`` (rank 0 only under torchrun)."""
    target = Path(output_dir) / "model"
    if is_main_process():
        pipeline.save_pretrained(target)
    return target


def run(main) -> None:
    """Runs a recipe's ``main()``; the toolkit's own errors end it with one clear line and exit code 2."""
    import sys

    from lstm_nlp.errors import LstmNlpError

    try:
        main()
    except LstmNlpError as err:
        sys.stderr.write(f"{Path(sys.argv[0]).name}: error: {err}\n")
        raise SystemExit(2) from None
