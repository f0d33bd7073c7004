"""``TextClassifier``: embedding -> a registered encoder (BiLSTM by default) -> pooling -> linear head."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from lstm_nlp.errors import ConfigError
from lstm_nlp.models.base import PretrainedModel
from lstm_nlp.modules import WordEmbedding
from lstm_nlp.modules.dropout import Dropout
from lstm_nlp.modules.encoder import RecurrentEncoder, build_encoder, check_encoder_name
from lstm_nlp.modules.fixed_order import FixedOrderLinear
from lstm_nlp.modules.heads import check_class_weights, register_class_weights
from lstm_nlp.modules.pooling import POOLING_METHODS, SequencePooler
from lstm_nlp.schema import MAX_DIM, MAX_LAYERS, MAX_VOCAB, dataclass_schema

MODEL_TYPE = "text_classifier"


@dataclass(frozen=True)
class ClassifierConfig:
    """Sizes and options of a :class:`TextClassifier`.

    Attributes:
        vocab_size: Word vocabulary size (``<pad>`` at id 0).
        num_labels: Number of classes (>= 2; binary tasks use two logits and softmax).
        embedding_dim: Word vector size.
        hidden_size: Encoder hidden size per direction.
        num_layers: Stacked encoder layers.
        bidirectional: A bidirectional encoder.
        pooling: ``"final"`` (last layer's final states), ``"mean"`` or ``"max"`` over real tokens.
        dropout: Dropout on embeddings, between encoder layers and before the output layer.
        encoder: The encoder by its registered name (:data:`~lstm_nlp.modules.encoder.ENCODERS`);
            bundles written before this field read as ``"lstm"``.
        encoder_impl: ``"auto"`` (the dense fast path on CPU and CUDA, packed elsewhere), ``"packed"`` or ``"dense"``.
        class_weights: ``None`` (the plain loss) or one weight > 0 per class, in label id order: the
            training loss becomes the weighted cross-entropy ``sum_i w[y_i] * CE_i / sum_i w[y_i]``
            (predictions unchanged). Kept in the bundle's config; older bundles load with ``None``.
    """

    vocab_size: int
    num_labels: int
    embedding_dim: int = 128
    hidden_size: int = 128
    num_layers: int = 1
    bidirectional: bool = True
    pooling: str = "max"
    dropout: float = 0.4
    encoder: str = "lstm"
    encoder_impl: str = "auto"
    class_weights: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        for name in ("vocab_size", "embedding_dim", "hidden_size", "num_layers"):
            if getattr(self, name) < 1:
                raise ConfigError(f"ClassifierConfig.{name} must be >= 1, got {getattr(self, name)}")
        if self.num_labels < 2:
            raise ConfigError(f"ClassifierConfig.num_labels must be >= 2 (the training data needs at least two "
                              f"classes), got {self.num_labels}")
        check_encoder_name(self.encoder, argument="ClassifierConfig.encoder")
        if self.pooling not in POOLING_METHODS:
            raise ConfigError(f"ClassifierConfig.pooling must be one of {POOLING_METHODS}, got {self.pooling!r}")
        if not 0.0 <= self.dropout < 1.0:
            raise ConfigError(f"ClassifierConfig.dropout must be in [0, 1), got {self.dropout}")
        object.__setattr__(self, "class_weights", check_class_weights(self.class_weights, self.num_labels,
                                                                      where="ClassifierConfig.class_weights"))


#: What ``config.json``'s ``config`` may hold: :class:`ClassifierConfig`'s field types, with bounded sizes.
CONFIG_SCHEMA = dataclass_schema(ClassifierConfig, bounds={
    "vocab_size": (1, MAX_VOCAB), "num_labels": (2, MAX_VOCAB), "num_layers": (1, MAX_LAYERS),
    "embedding_dim": (1, MAX_DIM), "hidden_size": (1, MAX_DIM), "class_weights": (0, None)})


@dataclass
class ClassifierOutput:
    """What :class:`TextClassifier` returns.

    Attributes:
        logits: ``FloatTensor[batch, num_labels]``.
        loss: Mean cross-entropy over the batch (weighted by ``config.class_weights`` when set; a
            scalar) when labels were given, else ``None``.
    """

    logits: torch.Tensor
    loss: torch.Tensor | None = None

    def probabilities(self) -> torch.Tensor:
        """Softmax over classes: ``FloatTensor[batch, num_labels]``."""
        return self.logits.float().softmax(-1)


class TextClassifier(PretrainedModel):
    """``WordEmbedding`` -> ``encoder`` (``config.encoder``, registered by name) -> ``SequencePooler`` -> dropout
    -> ``Linear``.

    Args:
        config: Model sizes and options.
    """

    model_type = MODEL_TYPE
    config_class = ClassifierConfig
    config_schema = CONFIG_SCHEMA

    def __init__(self, config: ClassifierConfig):
        super().__init__()
        self.config = config
        self.embedding = WordEmbedding(config.vocab_size, config.embedding_dim, padding_idx=0, dropout=config.dropout)
        self.encoder: RecurrentEncoder = build_encoder(
            config.encoder, config.embedding_dim, config.hidden_size, num_layers=config.num_layers,
            bidirectional=config.bidirectional, dropout=config.dropout, impl=config.encoder_impl,
        )
        self.pooler = SequencePooler(config.pooling, num_directions=self.encoder.num_directions)
        self.dropout = Dropout(config.dropout)
        self.output = FixedOrderLinear(self.encoder.output_dim, config.num_labels)
        register_class_weights(self, config.class_weights)

    def input_embedding(self) -> nn.Embedding:
        """The word embedding ``[vocab_size, embedding_dim]`` (row ``i``: word id ``i``)."""
        return self.embedding.embedding

    def forward(
        self, token_ids: torch.Tensor, *, mask: torch.Tensor, labels: torch.Tensor | None = None
    ) -> ClassifierOutput:
        """Classifies a padded batch.

        Args:
            token_ids: ``LongTensor[batch, seq]``.
            mask: ``BoolTensor[batch, seq]``, True at real tokens (each row needs at least one).
            labels: Optional ``LongTensor[batch]`` gold class ids.
        """
        embedded = self.embedding(token_ids)  # [batch, seq, embedding_dim]
        encoded = self.encoder(embedded, mask=mask)
        pooled = self.pooler(encoded.outputs, mask=mask, h_n=encoded.h_n)  # [batch, directions * hidden]
        logits = self.output(self.dropout(pooled))  # [batch, num_labels]
        loss = None
        if labels is not None:
            weight = None if self.class_weights is None else self.class_weights.float()
            loss = F.cross_entropy(logits.float(), labels, weight=weight)
        return ClassifierOutput(logits=logits, loss=loss)
