"""Warm starts: copy a pretrained :class:`~lstm_nlp.models.language_model.BiLanguageModel` into a classifier or tagger.

What is copied, where the vocabularies and shapes agree:

* embedding rows: each word of the target vocabulary that the language model knows (exact, then
  lower-cased) gets the LM's row; other rows keep their random init and ``<pad>`` stays zero;
* recurrent weights: the LM's forward encoder becomes the target encoder's forward direction and
  its backward encoder the reverse direction, layer by layer (``weight_ih_l0`` of the LM's forward
  ``rnn`` -> ``weight_ih_l0`` of the target's ``encoder.rnn``, the backward one's -> ``..._l0_reverse``).
  A tensor whose shape differs (another hidden size, character features widening the tagger's
  input, the second layer of a BiLSTM reading both directions) keeps its init and is listed.
  Weights of another cell are never copied, even where a shape happens to agree: an LSTM LM into a
  GRU tagger (``rnn.mode`` ``"LSTM"`` vs ``"GRU"``) copies the embedding only, and the report lists
  the encoder as kept at its init, with that reason.

Both models are reached through their accessors, whatever the encoder: ``input_embedding()``
(an ``nn.Embedding``) and ``encoder.rnn`` (the registered encoder's ``nn.LSTM``/``nn.GRU``).

Typical use::

    model = TextClassifier(ClassifierConfig(vocab_size=len(words), num_labels=2))
    report = init_from(model, "runs/lm/model", words)
    logger.info("warm start: %s", report)
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import torch
from torch import nn

from lstm_nlp.data.vectors import Coverage
from lstm_nlp.data.vocab import Vocab
from lstm_nlp.errors import BundleError, ConfigError
from lstm_nlp.models.language_model import MODEL_TYPE, BiLanguageModel
from lstm_nlp.modules.encoder import RecurrentEncoder
from lstm_nlp.serialization import read_bundle

_RNN_TENSORS = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


@dataclass
class WarmStartReport:
    """What :func:`init_from` copied.

    Attributes:
        coverage: Target-vocabulary words (specials excluded) that got the LM's embedding row.
        copied: Target parameter names filled from the LM (the embedding counts once).
        skipped: ``"name: reason"`` for each recurrent tensor (or the whole encoder) or the embedding that kept its
            init.
    """

    coverage: Coverage
    copied: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        text = f"embedding: {self.coverage}; {len(self.copied)} tensors copied"
        return text + (f", {len(self.skipped)} kept their init ({'; '.join(self.skipped)})" if self.skipped else "")


def init_from(model: nn.Module, lm: str | os.PathLike | BiLanguageModel, vocab: Vocab, *,
              lm_vocab: Vocab | None = None) -> WarmStartReport:
    """Copies a language model's embedding rows and recurrent weights into ``model`` (in place).

    Args:
        model: A model with ``input_embedding()`` (``nn.Embedding``) and ``encoder``, a registered
            :class:`~lstm_nlp.modules.encoder.RecurrentEncoder` (uni- or bidirectional):
            :class:`~lstm_nlp.models.TextClassifier`, :class:`~lstm_nlp.models.SequenceTagger`.
        lm: A ``pretrain_lm.py`` bundle folder (``OUTPUT_DIR/model``) or a loaded model.
        vocab: ``model``'s word vocabulary (row ``i`` of its embedding is ``vocab.itos[i]``).
        lm_vocab: The LM's vocabulary; read from the bundle (``words.vocab.json``) when ``lm`` is a folder.

    Returns:
        A :class:`WarmStartReport` (coverage, copied and skipped tensors).

    Raises:
        BundleError: ``lm`` is not a language-model bundle.
        ConfigError: ``model`` has no ``input_embedding()``/registered ``encoder``, its embedding does not
            have ``len(vocab)`` rows, or nothing at all could be copied.
    """
    if not isinstance(lm, BiLanguageModel):
        bundle = read_bundle(lm, expected_type=MODEL_TYPE)
        if lm_vocab is None:
            if "words" not in bundle.vocabs:
                raise BundleError(f"{bundle.path} has no words.vocab.json; pass lm_vocab")
            lm_vocab = bundle.vocabs["words"]
        lm = BiLanguageModel.from_bundle(bundle)
    elif lm_vocab is None:
        raise ConfigError("init_from with a loaded language model needs its vocabulary (lm_vocab)")
    embedding, rnn = _accessors(model)
    prefix = next(name for name, module in model.named_modules() if module is rnn)  # "encoder.lstm"
    if embedding.num_embeddings != len(vocab):
        raise ConfigError(f"the model's embedding has {embedding.num_embeddings} rows but the vocabulary "
                          f"{len(vocab)} words: pass the vocabulary the model was built with")
    report = WarmStartReport(Coverage(0, len(vocab) - len({vocab.pad_token, vocab.unk_token} - {None})))
    _copy_embedding(embedding, lm.input_embedding(), vocab, lm_vocab, report)
    _copy_recurrent(rnn, [direction.rnn for direction in lm.directions()], prefix, report)
    if not report.copied:
        raise ConfigError(f"nothing could be copied from the language model: {'; '.join(report.skipped)}")
    return report


def _accessors(model: nn.Module) -> tuple[nn.Embedding, nn.RNNBase]:
    """``model``'s word embedding and its encoder's recurrent weights, through the documented accessors."""
    embedding = model.input_embedding() if callable(getattr(model, "input_embedding", None)) else None
    encoder = getattr(model, "encoder", None)
    if not isinstance(embedding, nn.Embedding) or not isinstance(encoder, RecurrentEncoder):
        raise ConfigError(f"init_from needs a model with input_embedding() and a registered encoder, got "
                          f"{type(model).__name__}")
    return embedding, encoder.rnn


def _copy_recurrent(target: nn.RNNBase, sources: list[nn.RNNBase], prefix: str, report: WarmStartReport) -> None:
    """The LM's forward/backward ``rnn`` layers into ``target`` (named ``prefix`` in the model), same cell only."""
    if sources[0].mode != target.mode:
        report.skipped.append(f"{prefix}: the LM's {sources[0].mode} weights do not fit a {target.mode} encoder")
        return
    params = dict(target.named_parameters())
    for layer in range(sources[0].num_layers):
        for direction, source in enumerate(sources):
            if direction and not target.bidirectional:
                continue
            for tensor in _RNN_TENSORS:
                name = f"{tensor}_l{layer}" + ("_reverse" if direction else "")
                _copy(getattr(source, f"{tensor}_l{layer}"), params.get(name), f"{prefix}.{name}", report)


def _copy(source: torch.Tensor, target: torch.Tensor | None, name: str, report: WarmStartReport) -> None:
    if target is None:
        report.skipped.append(f"{name}: not in the model")
    elif target.shape != source.shape:
        report.skipped.append(f"{name}: shape {tuple(target.shape)} vs the LM's {tuple(source.shape)}")
    else:
        with torch.no_grad():
            target.copy_(source)
        report.copied.append(name)


def _copy_embedding(target: nn.Embedding, source: nn.Embedding, vocab: Vocab, lm_vocab: Vocab,
                    report: WarmStartReport) -> None:
    if target.embedding_dim != source.embedding_dim:
        report.skipped.append(f"embedding: size {target.embedding_dim} vs the LM's {source.embedding_dim}")
        return
    specials = {vocab.pad_token} - {None}
    rows, source_rows = [], []
    for row, word in enumerate(vocab.itos):
        if word in specials:
            continue
        found = lm_vocab.stoi.get(word)
        if found is None:
            found = lm_vocab.stoi.get(word.lower())
        if found is not None and found != lm_vocab.unk_id or word == vocab.unk_token:
            rows.append(row)
            source_rows.append(lm_vocab.unk_id if word == vocab.unk_token else found)
    with torch.no_grad():
        if rows:
            target.weight[torch.tensor(rows)] = source.weight[torch.tensor(source_rows)].to(target.weight.dtype)
        if vocab.pad_id is not None:
            target.weight[vocab.pad_id] = 0.0
    report.coverage = Coverage(found=sum(vocab.itos[r] != vocab.unk_token for r in rows), total=report.coverage.total)
    if rows:
        report.copied.append("embedding.embedding.weight")
