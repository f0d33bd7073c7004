"""``BiLanguageModel``: a forward and a backward word-level LSTM language model with an adaptive softmax.

The two directions share the word embedding and the output layer (as in ELMo) and nothing else:
the forward LSTM reads ``w_1..w_t`` and predicts ``w_{t+1}``, the backward LSTM reads
``w_T..w_t`` and predicts ``w_{t-1}``. Each direction is its own unidirectional
:class:`~lstm_nlp.modules.LSTMEncoder`, so a stacked model never lets one direction see the
other's context (a bidirectional ``nn.LSTM`` would feed layer 2 both directions of layer 1).
Their weights map one to one onto the two directions of a classifier's or tagger's BiLSTM
(``forward.lstm.weight_ih_l0`` -> ``encoder.lstm.weight_ih_l0``, ``backward.lstm.weight_ih_l0``
-> ``encoder.lstm.weight_ih_l0_reverse``): see :mod:`lstm_nlp.models.warm_start`.

``nn.AdaptiveLogSoftmaxWithLoss`` makes a large vocabulary affordable on CPU: the most frequent
``cutoffs[0]`` words get a full softmax, rarer ones share cheaper, smaller clusters. Word ids
must therefore be sorted by frequency (``Vocab.build`` does this; ``<pad>``/``<unk>`` come first).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from lstm_nlp.errors import ConfigError
from lstm_nlp.models.base import PretrainedModel
from lstm_nlp.modules import WordEmbedding
from lstm_nlp.modules.dropout import Dropout
from lstm_nlp.modules.encoder import RecurrentEncoder, build_encoder, check_encoder_name
from lstm_nlp.schema import MAX_DIM, MAX_LAYERS, MAX_VOCAB, dataclass_schema

MODEL_TYPE = "bilm"


@dataclass(frozen=True)
class LanguageModelConfig:
    """Sizes of a :class:`BiLanguageModel`.

    Attributes:
        vocab_size: Word vocabulary size (``<pad>`` at id 0), ids sorted by frequency.
        embedding_dim: Word vector size.
        hidden_size: LSTM size of each direction.
        num_layers: Stacked LSTM layers per direction.
        dropout: Dropout on the embeddings, between layers and on the LSTM outputs.
        cutoffs: Adaptive-softmax cluster boundaries (increasing, all below ``vocab_size``;
            those that are not are dropped when the model is built, so a small vocabulary works;
            see :attr:`effective_cutoffs`).
        div_value: Each further cluster's projection is this many times smaller.
        encoder: Each direction's encoder by its registered name
            (:data:`~lstm_nlp.modules.encoder.ENCODERS`); bundles written before this field read as ``"lstm"``.
    """

    vocab_size: int
    embedding_dim: int = 128
    hidden_size: int = 128
    num_layers: int = 1
    dropout: float = 0.1
    cutoffs: tuple[int, ...] = (2000, 10000)
    div_value: float = 4.0
    encoder: str = "lstm"

    def __post_init__(self) -> None:
        object.__setattr__(self, "cutoffs", tuple(int(c) for c in self.cutoffs))
        for name in ("vocab_size", "embedding_dim", "hidden_size", "num_layers"):
            if getattr(self, name) < 1:
                raise ConfigError(f"LanguageModelConfig.{name} must be >= 1, got {getattr(self, name)}")
        if self.vocab_size < 3:
            raise ConfigError(f"LanguageModelConfig.vocab_size must be >= 3 (<pad>, <unk> and a word), "
                              f"got {self.vocab_size}")
        if not 0.0 <= self.dropout < 1.0:
            raise ConfigError(f"LanguageModelConfig.dropout must be in [0, 1), got {self.dropout}")
        if list(self.cutoffs) != sorted(set(self.cutoffs)) or any(c < 1 for c in self.cutoffs):
            raise ConfigError(f"LanguageModelConfig.cutoffs must be increasing positive ids, got {self.cutoffs}")
        check_encoder_name(self.encoder, argument="LanguageModelConfig.encoder")
        if self.div_value < 1.0:
            raise ConfigError(f"LanguageModelConfig.div_value must be >= 1, got {self.div_value}")

    @property
    def effective_cutoffs(self) -> list[int]:
        """The cutoffs below ``vocab_size - 1`` (``nn.AdaptiveLogSoftmaxWithLoss`` needs at least one:
        ``[vocab_size // 2]`` when none is)."""
        return [c for c in self.cutoffs if c < self.vocab_size - 1] or [self.vocab_size // 2]


@dataclass
class LanguageModelOutput:
    """What :class:`BiLanguageModel` returns.

    Attributes:
        loss: Mean of the two directions' mean negative log-likelihoods (nats per predicted word).
        forward_loss: Forward direction's mean NLL (scalar).
        backward_loss: Backward direction's mean NLL (scalar).
        predicted: Number of predicted words per direction (``LongTensor`` scalar).
    """

    loss: torch.Tensor
    forward_loss: torch.Tensor
    backward_loss: torch.Tensor
    predicted: torch.Tensor


#: What ``config.json``'s ``config`` may hold: :class:`LanguageModelConfig`'s field types, with bounded sizes.
CONFIG_SCHEMA = dataclass_schema(LanguageModelConfig, bounds={
    "vocab_size": (3, MAX_VOCAB), "num_layers": (1, MAX_LAYERS), "embedding_dim": (1, MAX_DIM),
    "hidden_size": (1, MAX_DIM), "cutoffs": (1, MAX_VOCAB)})


class BiLanguageModel(PretrainedModel):
    """``WordEmbedding`` -> forward and backward encoder -> dropout -> shared adaptive softmax.

    ``forward_lstm`` and ``backward_lstm`` (names kept for the bundles' weight names) are the
    unidirectional encoders that ``config.encoder`` names (an ``LSTMEncoder`` by default).

    Args:
        config: Model sizes.
    """

    model_type = MODEL_TYPE
    config_class = LanguageModelConfig
    config_schema = CONFIG_SCHEMA

    def __init__(self, config: LanguageModelConfig):
        super().__init__()
        self.config = config
        self.embedding = WordEmbedding(config.vocab_size, config.embedding_dim, padding_idx=0, dropout=config.dropout)
        self.forward_lstm = self._direction(config)
        self.backward_lstm = self._direction(config)
        self.dropout = Dropout(config.dropout)
        self.softmax = nn.AdaptiveLogSoftmaxWithLoss(config.hidden_size, config.vocab_size,
                                                     cutoffs=config.effective_cutoffs, div_value=config.div_value)

    @staticmethod
    def _direction(config: LanguageModelConfig) -> RecurrentEncoder:
        return build_encoder(config.encoder, config.embedding_dim, config.hidden_size, num_layers=config.num_layers,
                             bidirectional=False, dropout=config.dropout)

    def input_embedding(self) -> nn.Embedding:
        """The shared word embedding ``[vocab_size, embedding_dim]``."""
        return self.embedding.embedding

    def directions(self) -> tuple[RecurrentEncoder, RecurrentEncoder]:
        """``(forward, backward)`` encoders, each unidirectional (their ``rnn`` holds the weights)."""
        return self.forward_lstm, self.backward_lstm

    def forward(self, token_ids: torch.Tensor, *, mask: torch.Tensor) -> LanguageModelOutput:
        """Both directions' language-modelling losses on a padded batch.

        Args:
            token_ids: ``LongTensor[batch, seq]``, padded with 0 at the end of each row.
            mask: ``BoolTensor[batch, seq]``, True at real tokens (which come first in each row).

        Returns:
            :class:`LanguageModelOutput`; each row of length ``n`` gives ``n - 1`` predictions per direction.
        """
        embedded = self.embedding(token_ids)  # [batch, seq, embedding_dim]
        forward = self.forward_lstm(embedded, mask=mask).outputs  # [batch, seq, hidden]
        lengths = mask.sum(-1)
        positions = torch.arange(token_ids.shape[1], device=token_ids.device)[None, :]
        # Backward LM: reverse each row within its length, run forward, reverse back.
        reverse_index = torch.where(mask, (lengths - 1)[:, None] - positions, positions)  # [batch, seq]
        reversed_ids = token_ids.gather(1, reverse_index)
        backward = self.backward_lstm(self.embedding(reversed_ids), mask=mask).outputs
        backward = backward.gather(1, reverse_index.unsqueeze(-1).expand_as(backward))  # back in text order
        pairs = mask[:, 1:] & mask[:, :-1]  # [batch, seq - 1]: a word and its successor are both real
        forward_loss = self._nll(forward[:, :-1][pairs], token_ids[:, 1:][pairs])
        backward_loss = self._nll(backward[:, 1:][pairs], token_ids[:, :-1][pairs])
        return LanguageModelOutput(loss=(forward_loss + backward_loss) / 2, forward_loss=forward_loss,
                                   backward_loss=backward_loss, predicted=pairs.sum())

    def _nll(self, hidden: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """Mean NLL of ``targets: LongTensor[n]`` given ``hidden: FloatTensor[n, hidden_size]``."""
        if targets.numel() == 0:
            return hidden.sum() * 0.0
        return self.softmax(self.dropout(hidden).float(), targets).loss
