"""Former home of the recipe helpers, now :mod:`lstm_nlp.recipe_kit` (kept for ``tests/training/test_plots.py``)."""

from lstm_nlp.recipe_kit import recipe_parser, run, save_model, setup_logging, trainer_config, write_metrics

__all__ = ["recipe_parser", "run", "save_model", "setup_logging", "trainer_config", "write_metrics"]
