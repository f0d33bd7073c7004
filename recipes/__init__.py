"""The training recipes: one script per task, and once installed the package ``lstm_nlp.recipes``.

In a checkout they run as scripts (``python recipes/pos_tagger.py``); the package ships the
same files, which ``lstm-nlp train pos`` runs (see :data:`lstm_nlp.cli.RECIPES`). Each module
has ``main(argv=None)``; its bundled sample is ``data/`` beside this folder in a checkout and
inside it once installed (:func:`lstm_nlp.recipe_kit.bundled_sample`).
"""
