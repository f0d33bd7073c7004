"""``SequenceTagger``: embedding -> LSTMEncoder -> token head."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass

import torch
from torch import nn

from lstm_nlp.errors import ConfigError
from lstm_nlp.modules import LSTMEncoder, TokenClassificationHead, WordEmbedding
from lstm_nlp.serialization import read_bundle, write_bundle, load_state_dict_strict

MODEL_TYPE = "sequence_tagger"


@dataclass(frozen=True)
class TaggerConfig:
    """Sizes and options of a :class:`SequenceTagger`.

    Attributes:
        vocab_size: Word vocabulary size (``<pad>`` at id 0).
        num_labels: Number of tags.
        embedding_dim: Word vector size.
        hidden_size: LSTM hidden size per direction.
        num_layers: Stacked LSTM layers.
        bidirectional: BiLSTM (recommended for tagging).
        dropout: Dropout on embeddings, between LSTM layers and before the head.
        encoder_impl: ``"auto"`` (dense fast path on CPU, packed on GPU), ``"packed"`` or ``"dense"``.
    """

    vocab_size: int
    num_labels: int
    embedding_dim: int = 100
    hidden_size: int = 128
    num_layers: int = 2
    bidirectional: bool = True
    dropout: float = 0.33
    encoder_impl: str = "auto"

    def __post_init__(self) -> None:
        for name in ("vocab_size", "num_labels", "embedding_dim", "hidden_size", "num_layers"):
            if getattr(self, name) < 1:
                raise ConfigError(f"TaggerConfig.{name} must be >= 1, got {getattr(self, name)}")
        if not 0.0 <= self.dropout < 1.0:
            raise ConfigError(f"TaggerConfig.dropout must be in [0, 1), got {self.dropout}")


@dataclass
class TaggerOutput:
    """What :class:`SequenceTagger` returns.

    Attributes:
        logits: ``FloatTensor[batch, seq, num_labels]``.
        mask: ``BoolTensor[batch, seq]``.
        loss: Mean cross-entropy over real tokens (scalar) when labels were given, else ``None``.
    """

    logits: torch.Tensor
    mask: torch.Tensor
    loss: torch.Tensor | None = None


class SequenceTagger(nn.Module):
    """A BiLSTM tagger: ``WordEmbedding`` -> ``LSTMEncoder`` -> ``TokenClassificationHead``.

    Args:
        config: Model sizes and options.
    """

    def __init__(self, config: TaggerConfig):
        super().__init__()
        self.config = config
        self.embedding = WordEmbedding(config.vocab_size, config.embedding_dim, padding_idx=0, dropout=config.dropout)
        self.encoder = LSTMEncoder(
            config.embedding_dim, config.hidden_size, num_layers=config.num_layers,
            bidirectional=config.bidirectional, dropout=config.dropout, impl=config.encoder_impl,
        )
        self.head = TokenClassificationHead(self.encoder.output_dim, config.num_labels, dropout=config.dropout)

    def forward(
        self, token_ids: torch.Tensor, *, mask: torch.Tensor, labels: torch.Tensor | None = None
    ) -> TaggerOutput:
        """Tags a padded batch.

        Args:
            token_ids: ``LongTensor[batch, seq]``.
            mask: ``BoolTensor[batch, seq]``, True at real tokens.
            labels: Optional ``LongTensor[batch, seq]`` gold tag ids.
        """
        embedded = self.embedding(token_ids)  # [batch, seq, embedding_dim]
        features = self.encoder(embedded, mask=mask).outputs  # [batch, seq, 2 * hidden]
        logits, loss = self.head(features, mask=mask, labels=labels)
        return TaggerOutput(logits=logits, mask=mask, loss=loss)

    def decode(self, output: TaggerOutput) -> list[list[int]]:
        """Best tag ids per sentence (real tokens only)."""
        return self.head.decode(output.logits, output.mask)

    # ------------------------------------------------------------------ bundles
    def save_pretrained(self, directory: str | os.PathLike, *, vocabs=None, meta=None, extra_files=None) -> None:
        """Writes ``config.json`` + ``model.safetensors`` (+ vocabularies) to ``directory``."""
        write_bundle(directory, model_type=MODEL_TYPE, config=dataclasses.asdict(self.config),
                     state_dict=self.state_dict(), vocabs=vocabs, meta=meta, extra_files=extra_files)

    @classmethod
    def from_pretrained(cls, directory: str | os.PathLike) -> SequenceTagger:
        """Rebuilds the model from a bundle and loads its weights strictly."""
        bundle = read_bundle(directory, expected_type=MODEL_TYPE)
        return cls.from_bundle(bundle)

    @classmethod
    def from_bundle(cls, bundle) -> SequenceTagger:
        try:
            config = TaggerConfig(**bundle.config)
        except TypeError as err:
            raise ConfigError(f"{bundle.path}: config.json does not fit TaggerConfig ({err})") from None
        model = cls(config)
        load_state_dict_strict(model, bundle.state_dict, str(bundle.path))
        return model.eval()
