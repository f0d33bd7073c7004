"""``PretrainedModel``: bundles written and read once, for every model.

A model declares what its bundles are (as Hugging Face's ``PreTrainedModel`` subclasses declare
``config_class``) and inherits ``save_pretrained`` / ``from_pretrained``::

    class SequenceTagger(PretrainedModel):
        model_type = "sequence_tagger"          # config.json's model_type
        config_class = TaggerConfig             # the dataclass in config.json's config
        config_schema = CONFIG_SCHEMA           # its JSON types and bounds, checked before anything is built

Loading checks the schema, builds the model on the ``meta`` device to compare every weight shape
with the file's, and only then allocates and loads the weights strictly
(:func:`~lstm_nlp.serialization.build_from_bundle`). A model whose bundle carries more than its
config and weights (a forecaster's scaler) overrides :meth:`bundle_meta` and :meth:`from_config`.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from typing import Any, ClassVar

from torch import nn

from lstm_nlp.schema import Field
from lstm_nlp.serialization import Bundle, build_from_bundle, check_config, read_bundle, write_bundle


class PretrainedModel(nn.Module):
    """A model with a ``config`` dataclass, saved as a bundle (``config.json`` + ``model.safetensors``).

    Attributes:
        model_type: ``model_type`` in ``config.json``; :func:`~lstm_nlp.pipelines.load_pipeline` dispatches on it.
        config_class: The config dataclass the model is built from (``Model(config)``).
        config_schema: What ``config.json``'s ``config`` may hold (:func:`~lstm_nlp.schema.dataclass_schema`).
    """

    model_type: ClassVar[str]
    config_class: ClassVar[type]
    config_schema: ClassVar[Mapping[str, Field]]
    config: Any

    def bundle_meta(self) -> dict:
        """Entries of ``config.json``'s ``meta`` that the model itself needs to be rebuilt (default: none)."""
        return {}

    def save_pretrained(self, directory: str | os.PathLike, *, vocabs=None, meta: Mapping | None = None,
                        extra_files=None) -> None:
        """Writes ``config.json`` + ``model.safetensors`` (+ vocabularies and extra files) to ``directory``,
        atomically (see :func:`~lstm_nlp.serialization.write_bundle`)."""
        write_bundle(directory, model_type=self.model_type, config=dataclasses.asdict(self.config),
                     state_dict=self.state_dict(), vocabs=vocabs, meta={**(meta or {}), **self.bundle_meta()},
                     extra_files=extra_files)

    @classmethod
    def from_pretrained(cls, directory: str | os.PathLike):
        """Rebuilds the model from a bundle folder and loads its weights strictly (in eval mode)."""
        return cls.from_bundle(read_bundle(directory, expected_type=cls.model_type))

    @classmethod
    def from_bundle(cls, bundle: Bundle):
        """Rebuilds the model from a read bundle: config checked (:attr:`config_schema`), weight shapes
        compared with it before anything is allocated."""
        config = check_config(bundle, cls.config_class, cls.config_schema)
        return build_from_bundle(lambda: cls.from_config(config, bundle), bundle).eval()

    @classmethod
    def from_config(cls, config, bundle: Bundle) -> PretrainedModel:
        """The model of a checked ``config`` (weights not loaded yet); ``bundle`` for what else it needs."""
        return cls(config)
