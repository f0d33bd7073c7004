"""The command line every recipe shares, the bundled sample, and the ``TrainerConfig`` of the options.

Every recipe builds its parser with :func:`recipe_parser`, fills in and checks its data paths
with :func:`data_paths` and turns the options into a :class:`~lstm_nlp.training.TrainerConfig`
with :func:`trainer_config`, so the training options here (optimiser, schedule, early stopping,
precision, checkpoints, ``--resume``, TensorBoard) reach every recipe without editing it.

Defaults are stated once: a training option's default is the ``TrainerConfig`` field's default
(the parser reads it from there), a recipe's own defaults are the keyword arguments of its
:func:`recipe_parser` call, and :func:`trainer_config` only maps names.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
from pathlib import Path

from lstm_nlp import __version__
from lstm_nlp.argtypes import (
    FRACTION,
    NON_NEGATIVE_FLOAT,
    NON_NEGATIVE_INT,
    POSITIVE_FLOAT,
    POSITIVE_INT,
    PROBABILITY,
    SEED,
    OneLineParser,
)
from lstm_nlp.device import set_cpu_threads
from lstm_nlp.errors import ConfigError, LstmNlpError
from lstm_nlp.help_format import DefaultsHelpFormatter
from lstm_nlp.modules.encoder import ENCODERS
from lstm_nlp.outputs import output_dir_problem
from lstm_nlp.recipe_kit.outputs import METRICS_JSON, MODEL_DIR
from lstm_nlp.training.config import OPTIMIZERS, PRECISIONS, SCHEDULERS, TrainerConfig
from lstm_nlp.training.distributed import env_rank
from lstm_nlp.training.run_lock import check_not_locked

logger = logging.getLogger("lstm_nlp")

DATA_SPLITS = ("train", "dev", "test")
_TRAINER_DEFAULTS = TrainerConfig()
# Options whose TrainerConfig field has the same name and meaning.
_SAME_NAME = ("epochs", "lr", "device", "seed", "optimizer", "weight_decay", "momentum", "grad_accum", "scheduler",
              "warmup_steps", "lr_factor", "lr_patience", "lr_step_size", "min_lr", "precision", "checkpoint_every",
              "keep_checkpoints", "resume", "tensorboard")
_NOT_OPTIONS = ("sample_splits",)  # set by data_paths, not by the user
_HUB_ID = re.compile(r"[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*")  # owner/name
#: ``--encoder``'s help; its choices are the names of :data:`~lstm_nlp.modules.encoder.ENCODERS`, read when a parser
#: is built.
ENCODER_HELP = "the recurrent encoder, by its registered name (lstm_nlp.modules.encoder.ENCODERS)"


def add_encoder_option(group: argparse._ArgumentGroup, *, default: str = "lstm") -> None:
    """Adds ``--encoder`` (dest ``encoder``) with the registered encoders' names as its choices.

    The tagging recipes get it from :data:`~lstm_nlp.recipe_kit.tagging.TAGGER_OPTIONS` (same
    choices and help); the other recipes whose model takes an ``encoder`` call this.
    """
    group.add_argument("--encoder", choices=sorted(ENCODERS), default=default, help=ENCODER_HELP)


class _RecipeParser(OneLineParser):
    """An ``ArgumentParser`` that also checks ``--output-dir`` once the options are parsed.

    The folder (or the nearest existing folder above it) must be a writable folder, and no other
    live training run may hold its lock: both fail at parse time, before any data is read. A
    ``--resume`` of a run that has nothing left to train ends here too, with one line and exit 0
    (:func:`finished_run`). Torch's CPU threads are set from ``--threads`` here, before any work starts.
    """

    def parse_known_args(self, args=None, namespace=None):
        namespace, extras = super().parse_known_args(args, namespace)
        output_dir = getattr(namespace, "output_dir", None)
        if output_dir:
            problem = output_dir_problem(output_dir)
            if problem is not None:
                self.error(problem)
            try:
                check_not_locked(Path(output_dir).expanduser())
            except ConfigError as err:
                self.error(str(err))
            done = finished_run(namespace) if getattr(namespace, "resume", None) else None
            if done is not None:
                self.exit(0, f"{self.prog}: nothing to do: {done}\n" if env_rank() == 0 else None)
        if hasattr(namespace, "threads"):
            set_cpu_threads(namespace.threads)  # the Trainer logs the count it trains with
        if getattr(namespace, "no_progress", False):
            import datasets  # its map/read bars ("Map: 100%", "Generating train split") are progress bars too

            datasets.disable_progress_bars()
        return namespace, extras


def finished_run(args: argparse.Namespace) -> str | None:
    """Why ``--resume`` has nothing left to train in ``--output-dir`` (one line), or ``None`` if it has.

    A run is finished when the checkpoint to resume holds all ``--epochs`` (or early stopping
    ended it) and the run's outputs (``metrics.json``, ``model/``) were written. A run that
    trained to the end but stopped before writing them is resumed: it then scores and saves.
    """
    from lstm_nlp.training.checkpoint import load_checkpoint, resolve_resume

    out = Path(args.output_dir).expanduser()
    if not ((out / METRICS_JSON).is_file() and (out / MODEL_DIR).is_dir()):
        return None
    try:
        path = resolve_resume(args.resume, out)
        checkpoint = load_checkpoint(path) if path is not None else None
    except LstmNlpError:  # the Trainer reports it, with the run's context
        return None
    if checkpoint is None or checkpoint["batches_done"]:
        return None
    epochs, restart = checkpoint["epoch"], "or leave out --resume to start afresh"
    if checkpoint.get("stopped_early"):
        return (f"the run in {out} stopped early after epoch {epochs} (--patience {args.patience} epochs without "
                f"dev gain); its model is {out / MODEL_DIR} ({restart})")
    if epochs >= args.epochs:
        return (f"the run in {out} finished all {epochs} epochs; its model is {out / MODEL_DIR} (give a larger "
                f"--epochs to train on, {restart})")
    return None


def command_parser(description: str, *, parser_class: type[OneLineParser] = OneLineParser,
                   **kwargs) -> OneLineParser:
    """The bare command line of a recipe: its description, ``--help`` with defaults, ``--version`` and
    one-line errors. :func:`recipe_parser` adds the training options; a recipe that trains no network
    (``train_vectors.py``) adds its own to this one."""
    parser = parser_class(description=description, formatter_class=DefaultsHelpFormatter, **kwargs)
    parser.add_argument("--version", action="version", version=f"%(prog)s (lstm_nlp {__version__})")
    return parser


def recipe_parser(description: str, *, epochs: int, batch_size: int, lr: float, output_dir: str,
                  data: bool = True, **defaults) -> argparse.ArgumentParser:
    """An ``ArgumentParser`` with the options every recipe accepts.

    Args:
        description: The recipe's one-line description.
        epochs: Default ``--epochs``.
        batch_size: Default ``--batch-size``.
        lr: Default ``--lr``.
        output_dir: Default ``--output-dir``.
        data: Add ``--train/--dev/--test/--eval-train`` (a recipe that reads its data otherwise,
            such as forecasting, passes ``False`` and shows none of them).
        **defaults: Other defaults by destination name, e.g. ``optimizer="sgd", scheduler="plateau",
            patience=5``.

    Raises:
        ConfigError: a key of ``defaults`` that is not an option.
    """
    parser = command_parser(description, parser_class=_RecipeParser,
                            conflict_handler="resolve")  # a recipe may redefine any option below
    if data:
        group = parser.add_argument_group("data")
        group.add_argument("--train", help="training data (default: the bundled sample)")
        group.add_argument("--dev", help="development data that selects the best epoch (default: the bundled "
                                         "sample's, when --train is not given either)")
        group.add_argument("--test", help="held-out test data, scored once at the end (default: the bundled "
                                          "sample's, when --train is not given either)")
        group.add_argument("--eval-train", action=argparse.BooleanOptionalAction, default=False,
                           help="after training, also score the whole training set (one more pass over it, slow "
                                "on a large corpus; default: off, the per-epoch training loss is in metrics.jsonl)")
    run = parser.add_argument_group("run")
    run.add_argument("--output-dir", default=output_dir, help="where metrics.json, logs and model/ are written")
    run.add_argument("--epochs", type=POSITIVE_INT, default=epochs,
                     help="training epochs (the total, also with --resume)")
    run.add_argument("--batch-size", type=POSITIVE_INT, default=batch_size, help="examples per batch")
    run.add_argument("--lr", type=POSITIVE_FLOAT, default=lr, help="learning rate")
    run.add_argument("--seed", type=SEED, default=1, help="random seed")
    run.add_argument("--device", default=_TRAINER_DEFAULTS.device, help="auto, cpu, cuda, cuda:N or mps")
    run.add_argument("--no-progress", action="store_true", help="hide progress bars")
    run.add_argument("--threads", type=POSITIVE_INT, default=None, metavar="N",
                     help="torch CPU threads (default: OMP_NUM_THREADS if set, else the cores not busy with other "
                          "processes, re-checked every 5 s as the run goes and logged when it changes: a thread "
                          "waiting for a busy core slows every step; results are the same bits at any count)")
    _add_training_options(parser)
    unknown = sorted(set(defaults) - {action.dest for action in parser._actions})
    if unknown:
        raise ConfigError(f"recipe_parser: unknown default(s) {unknown}")
    parser.set_defaults(**defaults)
    return parser


def _add_training_options(parser: argparse.ArgumentParser) -> None:
    d = _TRAINER_DEFAULTS
    optim = parser.add_argument_group("optimisation")
    optim.add_argument("--optimizer", choices=OPTIMIZERS, default=d.optimizer, help="optimiser (sgd uses --momentum)")
    optim.add_argument("--weight-decay", type=NON_NEGATIVE_FLOAT, default=d.weight_decay,
                       help="L2 (adam, sgd) / decoupled (adamw) decay")
    optim.add_argument("--momentum", type=PROBABILITY, default=d.momentum, help="SGD momentum")
    optim.add_argument("--grad-clip", type=NON_NEGATIVE_FLOAT, default=d.grad_clip or 0.0,
                       help="clip the gradient norm to this (0: off)")
    optim.add_argument("--grad-accum", type=POSITIVE_INT, default=d.grad_accum, help="batches per optimizer step")
    optim.add_argument("--scheduler", choices=SCHEDULERS, default=d.scheduler,
                       help="lr schedule: plateau (x lr-factor after lr-patience epochs without dev gain), "
                            "linear (warm-up then linear decay), step (x lr-factor every lr-step-size epochs)")
    optim.add_argument("--warmup-steps", type=NON_NEGATIVE_INT, default=d.warmup_steps,
                       help="linear warm-up steps (scheduler linear)")
    optim.add_argument("--lr-factor", type=FRACTION, default=d.lr_factor, help="lr multiplier of plateau / step")
    optim.add_argument("--lr-patience", type=NON_NEGATIVE_INT, default=d.lr_patience,
                       help="epochs without dev gain before plateau decays")
    optim.add_argument("--lr-step-size", type=POSITIVE_INT, default=d.lr_step_size, help="epochs between step decays")
    optim.add_argument("--min-lr", type=NON_NEGATIVE_FLOAT, default=d.min_lr, help="lower bound of plateau")
    optim.add_argument("--patience", type=NON_NEGATIVE_INT, default=d.patience or 0,
                       help="early stopping: stop after this many epochs without dev gain (0: off)")
    optim.add_argument("--precision", choices=PRECISIONS, default=d.precision,
                       help="mixed precision: bf16, fp16 (CUDA, with a gradient scaler), amp (bf16 or fp16 on CUDA)")
    optim.add_argument("--amp", dest="precision", action="store_const", const="amp",
                       help="shorthand for --precision amp (no effect on CPU)")
    runs = parser.add_argument_group("checkpoints and logging")
    runs.add_argument("--resume", nargs="?", const="auto", default=d.resume, metavar="CHECKPOINT",
                      help="continue a run: the latest checkpoint in OUTPUT_DIR/checkpoints (no value), or a "
                           "checkpoint file/folder. Give the interrupted run's options: only --epochs (the total; "
                           "not with --scheduler linear), --device, --no-progress, --output-dir, the checkpoint and "
                           "logging options, and those that only choose what is scored or cached after training "
                           "may change; any other difference is refused, naming each option (old -> new)")
    runs.add_argument("--checkpoint-every", type=NON_NEGATIVE_INT, default=d.checkpoint_every,
                      help="also checkpoint every N optimizer steps (0: only at epoch ends)")
    runs.add_argument("--keep-checkpoints", type=POSITIVE_INT, default=d.keep_checkpoints,
                      help="recent checkpoints to keep (plus the best)")
    runs.add_argument("--no-checkpoints", action="store_true", help="write no checkpoints")
    runs.add_argument("--tensorboard", action="store_true",
                      help="log to OUTPUT_DIR/tensorboard (needs the tensorboard package)")


def bundled_sample(recipe_file: str | os.PathLike, *parts: str) -> Path:
    """The bundled sample ``data/PARTS`` of the recipe whose file is ``recipe_file`` (pass ``__file__``).

    A checkout has the samples in ``data/`` beside the ``recipes/`` folder; an installed package
    has the same files inside it, in ``lstm_nlp/recipes/data/``. The checkout's copy wins where it
    exists. Either way the path depends on the recipe's file, not on the working directory.
    """
    here = Path(recipe_file).resolve().parent
    checkout = here.parent / "data" / Path(*parts)
    return checkout if checkout.exists() else here / "data" / Path(*parts)


def data_paths(args: argparse.Namespace, sample_dir: str | os.PathLike, *, suffix: str,
               hub_ids: bool = False) -> argparse.Namespace:
    """Checks the given ``--train/--dev/--test`` and fills in the bundled sample where none was given.

    A given path is always used. Without ``--train`` the sample's ``train`` file is used for
    training, and its ``dev``/``test`` files (those it has) for the splits not given either.

    Args:
        args: Parsed options of a :func:`recipe_parser` parser (changed in place).
        sample_dir: The recipe's sample folder (:func:`bundled_sample`), holding ``train{suffix}`` and
            optionally ``dev``/``test``.
        suffix: File ending of the sample files, e.g. ``".conllu"``.
        hub_ids: Whether the recipe also reads Hugging Face hub ids (``owner/name``, ``name``,
            ``name:config``); then only values that look like files (with a suffix, or a path
            that is not ``owner/name``) must exist.

    Returns:
        ``args``, with ``args.sample_splits`` listing the splits taken from the sample.

    Raises:
        ConfigError: a given path that looks like a file but does not exist (naming the flag).
    """
    for split in DATA_SPLITS:
        value = getattr(args, split)
        if value is not None and _looks_like_file(value, hub_ids) and not Path(value).expanduser().exists():
            raise ConfigError(f"--{split}: no such file or folder: {value}")
    args.sample_splits = []
    if args.train is None:
        sample_dir = Path(sample_dir)
        for split in DATA_SPLITS:
            path = sample_dir / f"{split}{suffix}"
            if getattr(args, split) is None and path.exists():
                setattr(args, split, str(path))
                args.sample_splits.append(split)
        logger.info("no --train given: using the bundled demo sample %s for %s (a small synthetic sample that "
                    "shows the recipe working; its scores say little about real text)", sample_dir,
                    "/".join(args.sample_splits))
    return args


def _looks_like_file(value: str, hub_ids: bool) -> bool:
    if not hub_ids:
        return True
    has_separator = "/" in value or os.sep in value
    return bool(Path(value).suffix) or (has_separator and not _HUB_ID.fullmatch(value))


def _plain(value):
    """``value`` as a plain value a safe checkpoint load accepts (``str()`` of anything else, e.g. a ``Path``)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return str(value)


def trainer_config(args: argparse.Namespace, *, metric: str, mode: str = "max", **overrides) -> TrainerConfig:
    """The :class:`TrainerConfig` for the common recipe options in ``args``.

    Args:
        args: Parsed options of a :func:`recipe_parser` parser.
        metric: Dev metric that selects the best epoch.
        mode: ``"max"`` or ``"min"`` for ``metric``.
        **overrides: Any other ``TrainerConfig`` field, taking precedence over ``args``.
    """
    values = {name: getattr(args, name) for name in _SAME_NAME}
    values.update(metric=metric, mode=mode, output_dir=args.output_dir, progress=not args.no_progress,
                  grad_clip=args.grad_clip or None, patience=args.patience or None,
                  save_checkpoints=not args.no_checkpoints)
    # Saved in each checkpoint: --resume refuses a run whose data, model or batching options differ.
    values["run_options"] = {k: _plain(v) for k, v in vars(args).items() if k not in _NOT_OPTIONS}
    values.update(overrides)
    return TrainerConfig(**values)
