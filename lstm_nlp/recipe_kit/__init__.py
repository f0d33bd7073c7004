"""What the scripts in ``recipes/`` share, one module per job.

* :mod:`~lstm_nlp.recipe_kit.args`: the common command line (:func:`recipe_parser`), the bundled
  sample and the checks of ``--train/--dev/--test`` (:func:`data_paths`), and the
  :class:`~lstm_nlp.training.TrainerConfig` of the parsed options (:func:`trainer_config`);
* :mod:`~lstm_nlp.recipe_kit.outputs`: scoring the splits, ``metrics.json``, the reports on
  stdout, the confusion plot and the saved bundle (:func:`finish`);
* :mod:`~lstm_nlp.recipe_kit.distributed_dirs`: where a ``torchrun`` rank writes its own files;
* :mod:`~lstm_nlp.recipe_kit.tagging`: the training step of the tagging recipes and the whole
  BIO-tagger recipe that ``recipes/ner.py`` and ``recipes/chunking.py`` share;
* :mod:`~lstm_nlp.recipe_kit.runner`: logging set-up and the one-line error convention (:func:`run`).

Where the bundled sample is found: the recipes are scripts in the repository checkout, and the
sample lives beside them in ``data/``. Each recipe therefore names its sample folder relative to
its own file (``Path(__file__).resolve().parents[1] / "data" / "pos"``) and passes it to
:func:`data_paths`; the kit never computes it from the installed package's location, which
points into ``site-packages`` (no ``data/`` there) after a non-editable install.
"""

from lstm_nlp.recipe_kit.args import data_paths, recipe_parser, trainer_config
from lstm_nlp.recipe_kit.distributed_dirs import local_output_dir
from lstm_nlp.recipe_kit.outputs import evaluate_splits, finish, format_reports, save_model, write_metrics
from lstm_nlp.recipe_kit.runner import run, setup_logging

__all__ = ["data_paths", "evaluate_splits", "finish", "format_reports", "local_output_dir", "recipe_parser", "run",
           "save_model", "setup_logging", "trainer_config", "write_metrics"]
