"""What the scripts in ``recipes/`` share, one module per job.

* :mod:`~lstm_nlp.recipe_kit.args`: the common command line (:func:`recipe_parser`, or
  :func:`command_parser` without the training options; the value checks are :mod:`lstm_nlp.argtypes`), the bundled
  sample and the checks of ``--train/--dev/--test`` (:func:`data_paths`), and the
  :class:`~lstm_nlp.training.TrainerConfig` of the parsed options (:func:`trainer_config`);
* :mod:`~lstm_nlp.recipe_kit.outputs`: scoring the splits, ``metrics.json``, the reports on
  stdout, the confusion plot and the saved bundle (:func:`finish`);
* :mod:`~lstm_nlp.recipe_kit.distributed_dirs`: where a ``torchrun`` rank writes its own files;
* :mod:`~lstm_nlp.recipe_kit.pretrained`: ``--vectors`` and ``--init-from`` into a fresh model (seeded), and
  discriminative learning rates;
* :mod:`~lstm_nlp.recipe_kit.tagging`: the model options of the tagging recipes and their
  ``TaggerConfig`` (one table), the training step, and the whole BIO-tagger recipe that
  ``recipes/ner.py`` and ``recipes/chunking.py`` share;
* :mod:`~lstm_nlp.recipe_kit.runner`: logging set-up and the one-line error convention (:func:`run`).

Where the bundled sample is found: in a checkout the recipes are scripts in ``recipes/`` and
the samples live beside them in ``data/``; an installed package ships both inside it, as
``lstm_nlp.recipes`` and ``lstm_nlp/recipes/data/`` (see ``setup.py``). Each recipe names its
sample relative to its own file with :func:`bundled_sample` (``bundled_sample(__file__, "pos")``),
which finds either layout, and passes it to :func:`data_paths`.
"""

from lstm_nlp.recipe_kit.args import bundled_sample, command_parser, data_paths, recipe_parser, trainer_config
from lstm_nlp.recipe_kit.distributed_dirs import local_output_dir
from lstm_nlp.recipe_kit.outputs import evaluate_splits, finish, format_reports, save_model, write_metrics
from lstm_nlp.recipe_kit.runner import run, setup_logging

__all__ = ["bundled_sample", "command_parser", "data_paths", "evaluate_splits", "finish", "format_reports",
           "local_output_dir", "recipe_parser", "run", "save_model", "setup_logging", "trainer_config", "write_metrics"]
