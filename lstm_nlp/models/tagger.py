"""``SequenceTagger``: word (+ character) embeddings -> a registered encoder (BiLSTM by default) -> softmax/CRF head."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import torch
from torch import nn

from lstm_nlp.errors import ConfigError
from lstm_nlp.models.base import PretrainedModel
from lstm_nlp.modules import TokenClassificationHead, WordEmbedding
from lstm_nlp.modules.char_encoders import CharCNNEncoder, CharLSTMEncoder
from lstm_nlp.modules.crf import CRFHead
from lstm_nlp.modules.dropout import Dropout
from lstm_nlp.modules.encoder import RecurrentEncoder, build_encoder, check_encoder_name
from lstm_nlp.modules.heads import check_class_weights
from lstm_nlp.schema import MAX_DIM, MAX_LAYERS, MAX_VOCAB, dataclass_schema

MODEL_TYPE = "sequence_tagger"
UNK_ID = 1  # Vocab.build puts <pad> at 0 and <unk> at 1
CharEncoderKind = Literal["none", "cnn", "lstm"]
HeadKind = Literal["softmax", "crf"]


@dataclass(frozen=True)
class TaggerConfig:
    """Sizes and options of a :class:`SequenceTagger`.

    Attributes:
        vocab_size: Word vocabulary size (``<pad>`` at id 0).
        num_labels: Number of tags.
        embedding_dim: Word vector size.
        hidden_size: Encoder hidden size per direction.
        num_layers: Stacked encoder layers.
        bidirectional: A bidirectional encoder (recommended for tagging).
        dropout: Dropout on embeddings (word and character features), between encoder layers and
            before the head.
        encoder: The word-level encoder by its registered name (:data:`~lstm_nlp.modules.encoder.ENCODERS`:
            ``"lstm"`` and the others registered); bundles written before this field read as ``"lstm"``.
        encoder_impl: ``"auto"`` (the dense fast path on CPU and CUDA, packed elsewhere), ``"packed"`` or ``"dense"``.
        char_encoder: Character features concatenated to the word vector: ``"none"``, ``"cnn"``
            (:class:`CharCNNEncoder`) or ``"lstm"`` (:class:`CharLSTMEncoder`). They see the words'
            original case, so capitalisation is kept even when the word vocabulary is lower-cased.
        char_vocab_size: Character vocabulary size (``<pad>`` at id 0); needed with a char encoder.
        char_embedding_dim: Character vector size.
        char_hidden_size: CNN filters, or char-LSTM size per direction (output ``2 *`` that).
        char_kernel_size: CNN width in characters (odd).
        head: ``"softmax"`` (independent per-token decisions) or ``"crf"`` (linear-chain CRF, Viterbi).
        freeze_embeddings: Keep the word embedding fixed (e.g. pretrained vectors).
        word_dropout: In training, replace each real token id by ``<unk>`` (id 1, the
            :class:`~lstm_nlp.data.Vocab` convention) with this probability, so that the unknown-word
            vector and the character features learn to stand in for words missing at test time.
        class_weights: ``None`` (the plain loss) or one weight > 0 per tag, in label id order, for
            the training loss only: weighted cross-entropy (softmax head) or the token-weighted CRF
            NLL (:meth:`~lstm_nlp.modules.crf.ConditionalRandomField.token_weighted_nll`). Kept in
            the bundle's config; bundles written before it load with ``None``.
    """

    vocab_size: int
    num_labels: int
    embedding_dim: int = 100
    hidden_size: int = 128
    num_layers: int = 2
    bidirectional: bool = True
    dropout: float = 0.33
    encoder: str = "lstm"
    encoder_impl: str = "auto"
    char_encoder: CharEncoderKind = "none"
    char_vocab_size: int = 0
    char_embedding_dim: int = 30
    char_hidden_size: int = 50
    char_kernel_size: int = 3
    head: HeadKind = "softmax"
    freeze_embeddings: bool = False
    word_dropout: float = 0.0
    class_weights: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "class_weights", check_class_weights(self.class_weights, self.num_labels,
                                                                      where="TaggerConfig.class_weights"))
        for name in ("vocab_size", "num_labels", "embedding_dim", "hidden_size", "num_layers"):
            if getattr(self, name) < 1:
                raise ConfigError(f"TaggerConfig.{name} must be >= 1, got {getattr(self, name)}")
        for name in ("dropout", "word_dropout"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise ConfigError(f"TaggerConfig.{name} must be in [0, 1), got {getattr(self, name)}")
        check_encoder_name(self.encoder, argument="TaggerConfig.encoder")
        if self.char_encoder not in ("none", "cnn", "lstm"):
            raise ConfigError(f"TaggerConfig.char_encoder must be 'none', 'cnn' or 'lstm', got {self.char_encoder!r}")
        if self.char_encoder != "none" and self.char_vocab_size < 2:
            raise ConfigError(f"TaggerConfig.char_encoder={self.char_encoder!r} needs char_vocab_size >= 2 "
                              f"(<pad>, <unk> and the characters), got {self.char_vocab_size}")
        if self.head not in ("softmax", "crf"):
            raise ConfigError(f"TaggerConfig.head must be 'softmax' or 'crf', got {self.head!r}")


#: What ``config.json``'s ``config`` may hold: :class:`TaggerConfig`'s field types, with bounded sizes.
CONFIG_SCHEMA = dataclass_schema(TaggerConfig, bounds={
    "vocab_size": (1, MAX_VOCAB), "num_labels": (1, MAX_VOCAB), "char_vocab_size": (0, MAX_VOCAB),
    "num_layers": (1, MAX_LAYERS), "embedding_dim": (1, MAX_DIM), "hidden_size": (1, MAX_DIM),
    "char_embedding_dim": (1, MAX_DIM), "char_hidden_size": (1, MAX_DIM), "char_kernel_size": (1, MAX_DIM),
    "class_weights": (0, None)})


@dataclass
class TaggerOutput:
    """What :class:`SequenceTagger` returns.

    Attributes:
        logits: ``FloatTensor[batch, seq, num_labels]`` (CRF emission scores with ``head="crf"``).
        mask: ``BoolTensor[batch, seq]``.
        loss: When labels were given, a scalar: the cross-entropy averaged over real tokens
            (softmax head) or the CRF negative log-likelihood averaged over sentences (CRF head),
            both weighted by ``config.class_weights`` when set; else ``None``.
    """

    logits: torch.Tensor
    mask: torch.Tensor
    loss: torch.Tensor | None = None


def build_char_encoder(config: TaggerConfig) -> nn.Module | None:
    """The character encoder that ``config.char_encoder`` names (``None`` for ``"none"``)."""
    if config.char_encoder == "cnn":
        return CharCNNEncoder(config.char_vocab_size, embedding_dim=config.char_embedding_dim,
                              num_filters=config.char_hidden_size, kernel_size=config.char_kernel_size,
                              dropout=config.dropout)
    if config.char_encoder == "lstm":
        return CharLSTMEncoder(config.char_vocab_size, embedding_dim=config.char_embedding_dim,
                               hidden_size=config.char_hidden_size, dropout=config.dropout, impl=config.encoder_impl)
    return None


def build_head(config: TaggerConfig, input_dim: int,
               constraints: Sequence[tuple[int, int]] | None = None) -> nn.Module:
    """The output head that ``config.head`` names; ``constraints`` (CRF only) restrict decoding."""
    if config.head == "crf":
        return CRFHead(input_dim, config.num_labels, dropout=config.dropout, constraints=constraints,
                       class_weights=config.class_weights)
    if constraints is not None:
        raise ConfigError("transition constraints need head='crf' (the softmax head decodes each token alone)")
    return TokenClassificationHead(input_dim, config.num_labels, dropout=config.dropout,
                                   class_weights=config.class_weights)


class SequenceTagger(PretrainedModel):
    """A BiLSTM (or other registered encoder) tagger: ``WordEmbedding`` [+ char encoder] -> ``encoder`` -> head.

    ``encoder`` is the :class:`~lstm_nlp.modules.encoder.RecurrentEncoder` that ``config.encoder``
    names; :meth:`input_embedding` is the word embedding (what vectors and warm starts fill).

    Args:
        config: Model sizes and options.
        constraints: Allowed tag transitions for CRF decoding (see
            :func:`lstm_nlp.modules.crf.allowed_transitions`); saved with the weights.
    """

    model_type = MODEL_TYPE
    config_class = TaggerConfig
    config_schema = CONFIG_SCHEMA

    def __init__(self, config: TaggerConfig, *, constraints: Sequence[tuple[int, int]] | None = None):
        super().__init__()
        self.config = config
        self.embedding = WordEmbedding(config.vocab_size, config.embedding_dim, padding_idx=0, dropout=config.dropout)
        self.input_embedding().weight.requires_grad_(not config.freeze_embeddings)
        self.char_encoder = build_char_encoder(config)
        self.char_dropout = Dropout(config.dropout)
        input_dim = config.embedding_dim + (self.char_encoder.output_dim if self.char_encoder is not None else 0)
        self.encoder: RecurrentEncoder = build_encoder(
            config.encoder, input_dim, config.hidden_size, num_layers=config.num_layers,
            bidirectional=config.bidirectional, dropout=config.dropout, impl=config.encoder_impl,
        )
        self.head = build_head(config, self.encoder.output_dim, constraints)

    def input_embedding(self) -> nn.Embedding:
        """The word embedding ``[vocab_size, embedding_dim]`` (row ``i``: word id ``i``)."""
        return self.embedding.embedding

    def forward(
        self,
        token_ids: torch.Tensor,
        *,
        mask: torch.Tensor,
        char_ids: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
    ) -> TaggerOutput:
        """Tags a padded batch.

        Args:
            token_ids: ``LongTensor[batch, seq]``.
            mask: ``BoolTensor[batch, seq]``, True at real tokens.
            char_ids: ``LongTensor[batch, seq, word_len]`` character ids (required with a char
                encoder; ignored without one).
            labels: Optional ``LongTensor[batch, seq]`` gold tag ids (``-100`` at padding).
        """
        if self.training and self.config.word_dropout > 0:
            dropped = torch.rand(token_ids.shape, device=token_ids.device) < self.config.word_dropout
            token_ids = token_ids.masked_fill(dropped & mask, UNK_ID)
        embedded = self.embedding(token_ids)  # [batch, seq, embedding_dim]
        if self.char_encoder is not None:
            if char_ids is None:
                raise ValueError(f"this tagger uses {self.config.char_encoder!r} character features: pass char_ids")
            chars = self.char_dropout(self.char_encoder(char_ids))  # [batch, seq, char_dim]
            embedded = torch.cat([embedded, chars], dim=-1)
        features = self.encoder(embedded, mask=mask).outputs  # [batch, seq, 2 * hidden]
        logits, loss = self.head(features, mask=mask, labels=labels)
        return TaggerOutput(logits=logits, mask=mask, loss=loss)

    def decode(self, output: TaggerOutput) -> list[list[int]]:
        """Best tag ids per sentence (real tokens only): argmax (softmax) or Viterbi (CRF)."""
        return self.head.decode(output.logits, output.mask)
