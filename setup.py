"""Packaging; the metadata is in setup.cfg. Only the package list is here: ``find:`` cannot add mapped folders.

The recipes (``recipes/``) and their bundled samples (``data/``) stay at the top of the repository,
where ``python recipes/pos_tagger.py`` runs them as scripts; the wheel also ships them, unchanged,
as the package ``lstm_nlp.recipes`` with the samples in ``lstm_nlp/recipes/data/``, so that
``lstm-nlp train pos`` trains on the sample from a plain ``pip install``.
"""

from setuptools import find_packages, setup

setup(packages=find_packages(include=["lstm_nlp", "lstm_nlp.*"]) + ["lstm_nlp.recipes", "lstm_nlp.recipes.data"],
      package_dir={"lstm_nlp.recipes": "recipes", "lstm_nlp.recipes.data": "data"})
