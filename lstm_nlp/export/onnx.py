"""ONNX export of taggers (softmax and CRF, character encoders included) and text classifiers.

    from lstm_nlp.export.onnx import export_onnx, OnnxPipeline
    export_onnx(load_pipeline("runs/ner/model"), "ner.onnx")
    runner = OnnxPipeline("ner.onnx", "runs/ner/model")      # onnxruntime, same featurization
    runner.predict_tokens([["EU", "rejects", "German", "call"]])

The graph takes ``token_ids [batch, seq]`` and ``mask [batch, seq]``, and with character features
``words [n_words, chars]`` (each distinct spelling of the batch once, as character ids) and
``word_index [batch, seq]`` (each position's row in ``words``; ``n_words`` at padding), every axis
dynamic. It returns the tag scores ``[batch, seq, tags]`` of a tagger (CRF emissions for a CRF
head) or the class probabilities ``[batch, classes]`` of a classifier. It is the encoder's exact
dense path (:class:`~lstm_nlp.modules.LSTMEncoder`: saturated gates carry the state through
padding) without the per-batch Python decisions (no length grouping); :class:`OnnxPipeline`
finds the distinct words of a batch with numpy, as the PyTorch model does with ``torch.unique``.
CRF decoding is :func:`lstm_nlp.export.viterbi.viterbi_decode`, a numpy Viterbi; the transition scores
and the allowed moves travel in the file's metadata (``lstm_nlp`` key, JSON), with the labels.

Needs the ``onnx`` extra (``pip install "lstm_nlp[onnx]"``: onnx, onnxruntime).
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

from lstm_nlp import __version__
from lstm_nlp.errors import ConfigError
from lstm_nlp.export.onnx_session import METADATA_KEY, unique_words  # noqa: F401  (re-exported)
from lstm_nlp.export.viterbi import viterbi_decode
from lstm_nlp.modules.char_encoders import CharCNNEncoder
from lstm_nlp.modules.encoder import RecurrentEncoder
from lstm_nlp.pipelines import load_pipeline
from lstm_nlp.pipelines.base import check_sentences, check_texts
from lstm_nlp.pipelines.tasks import TASKS, titles

OPSET = 17


def _require(module: str):
    try:
        return __import__(module)
    except ImportError:
        raise ConfigError(f"ONNX export and inference need the {module} package: pip install \"lstm_nlp[onnx]\"") \
            from None


def _dense(encoder: RecurrentEncoder, inputs: torch.Tensor, mask: torch.Tensor):
    """Any registered encoder's exact dense path, traceable (no length grouping)."""
    return encoder._forward_dense(inputs, mask, mask.sum(-1), None)


def _char_features(encoder: nn.Module, words: torch.Tensor, word_index: torch.Tensor) -> torch.Tensor:
    """The character encoder over distinct ``words [n, chars]`` (each with a character), gathered to
    ``word_index [batch, seq]`` (``n``: a padding word, zeros) -> ``[batch, seq, dim]``."""
    chars = words != encoder.padding_idx
    embedded = encoder.embedding(words)
    if isinstance(encoder, CharCNNEncoder):
        convolved = encoder.conv(embedded.transpose(1, 2))
        features = convolved.masked_fill(~chars.unsqueeze(1), float("-inf")).amax(dim=2)
    else:
        h_n = _dense(encoder.lstm, embedded, chars).h_n
        features = torch.cat([h_n[0], h_n[1]], dim=-1)
    features = torch.cat([features, features.new_zeros(1, features.shape[1])])
    return features[word_index]


class _TaggerGraph(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, token_ids, mask, words=None, word_index=None):
        model = self.model
        embedded = model.embedding(token_ids)
        if model.char_encoder is not None:
            embedded = torch.cat([embedded, _char_features(model.char_encoder, words, word_index)], dim=-1)
        features = _dense(model.encoder, embedded, mask).outputs
        return model.head.projection(features).float()


class _ClassifierGraph(nn.Module):
    def __init__(self, model, temperature: float = 1.0):
        super().__init__()
        self.model = model
        self.temperature = temperature  # the pipeline's calibration, baked into the graph's softmax

    def forward(self, token_ids, mask):
        model = self.model
        encoded = _dense(model.encoder, model.embedding(token_ids), mask)
        pooled = model.pooler(encoded.outputs, mask=mask, h_n=encoded.h_n)
        return (model.output(pooled).float() / self.temperature).softmax(-1)


def _example_batch(pipeline) -> dict[str, torch.Tensor]:
    """Two rows with padding (tokens and characters), so the traced graph is the padded one."""
    token_ids = torch.tensor([[2, 3, 4], [2, 3, 0]])
    batch = {"token_ids": token_ids, "mask": token_ids != 0}
    if getattr(pipeline, "chars", None) is not None:
        batch["words"] = torch.tensor([[2, 3, 2], [2, 3, 0], [3, 0, 0]])
        batch["word_index"] = torch.tensor([[0, 1, 2], [2, 1, 3]])
    return batch


def _tagger_graph(pipeline) -> tuple[nn.Module, dict, dict]:
    """A tagger's graph (tag ``scores [batch, seq, tags]``), its output axes and its metadata (labels, CRF)."""
    meta = {"task": "tagging", "scheme": pipeline.label_scheme, "crf": None}
    crf = getattr(pipeline.model.head, "crf", None)
    if crf is not None:
        meta["crf"] = {"transitions": crf.transitions.detach().float().tolist(),
                       "start": crf.start_transitions.detach().float().tolist(),
                       "end": crf.end_transitions.detach().float().tolist(),
                       "allowed": crf.allowed.tolist()}
    return _TaggerGraph(pipeline.model), {0: "batch", 1: "seq"}, meta


def _classifier_graph(pipeline) -> tuple[nn.Module, dict, dict]:
    """A classifier's graph (class ``probabilities [batch, classes]``), its output axes and its metadata."""
    meta = {"task": "classification", "temperature": pipeline.temperature}  # baked into the softmax
    return _ClassifierGraph(pipeline.model, pipeline.temperature), {0: "batch"}, meta


#: The graph of each exported output (:attr:`lstm_nlp.pipelines.tasks.Task.onnx_output`).
_GRAPHS = {"scores": _tagger_graph, "probabilities": _classifier_graph}


def export_onnx(pipeline, path: str | os.PathLike, *, opset: int = OPSET) -> Path:
    """Writes ``pipeline``'s model as an ONNX graph with dynamic batch and sequence axes.

    Args:
        pipeline: A loaded pipeline of a task with an ONNX graph (:attr:`~lstm_nlp.pipelines.tasks.Task.onnx_output`:
            taggers, text classifiers), in fp32.
        path: The ``.onnx`` file to write.
        opset: ONNX opset version.

    Returns:
        ``path``.

    Raises:
        ConfigError: another kind of model, or the onnx package missing.
    """
    _require("onnx")
    import onnx

    task = TASKS.get(getattr(pipeline, "model_type", None))
    if task is None or task.onnx_output is None:
        exportable = [t for t in TASKS.values() if t.onnx_output is not None]
        raise ConfigError(f"ONNX export takes {titles(exportable)}, not a {type(pipeline).__name__}")
    output = task.onnx_output
    graph, output_axes, meta = _GRAPHS[output](pipeline)
    graph = graph.to("cpu").eval()
    example = _example_batch(pipeline)
    axes = {"token_ids": {0: "batch", 1: "seq"}, "mask": {0: "batch", 1: "seq"}}
    if "words" in example:
        axes["words"] = {0: "words", 1: "chars"}
        axes["word_index"] = {0: "batch", 1: "seq"}
    axes[output] = output_axes
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # tracer warnings about Python branches, decided for padded input
        torch.onnx.export(graph, tuple(example.values()), str(path), input_names=list(example),
                          output_names=[output], dynamic_axes=axes, opset_version=opset, dynamo=False)
    model = onnx.load(str(path))
    entry = model.metadata_props.add()
    meta = {"lstm_nlp_version": __version__, "labels": list(pipeline.labels.itos), **meta}
    entry.key, entry.value = METADATA_KEY, json.dumps(meta)
    onnx.save(model, str(path))
    return path


class OnnxPipeline:
    """Runs an exported graph with onnxruntime, featurizing with the bundle it was exported from.

    Args:
        onnx_path: The ``.onnx`` file written by :func:`export_onnx`.
        bundle: The bundle folder (its vocabularies and tokenizer turn text into the graph's inputs).
        threads: onnxruntime intra-op threads (0: its default).
    """

    def __init__(self, onnx_path: str | os.PathLike, bundle: str | os.PathLike, *, threads: int = 0):
        ort = _require("onnxruntime")
        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        self.session = ort.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])
        meta = self.session.get_modelmeta().custom_metadata_map.get(METADATA_KEY)
        if meta is None:
            raise ConfigError(f"{onnx_path} was not written by lstm_nlp's export (no {METADATA_KEY!r} metadata)")
        self.meta = json.loads(meta)
        self.pipeline = load_pipeline(bundle)
        self.inputs = [i.name for i in self.session.get_inputs()]
        crf = self.meta.get("crf")
        self._crf = None if crf is None else {k: np.asarray(v) for k, v in crf.items()}

    def _require_task(self, onnx_output: str, method: str, what: str) -> None:
        if TASKS[self.pipeline.model_type].onnx_output != onnx_output:
            other = "predict_probabilities" if onnx_output == "scores" else "predict_tokens"
            raise ConfigError(f"{method}() {what}; this graph is a {type(self.pipeline).__name__}: use {other}()")

    def _run(self, batch: dict[str, torch.Tensor]) -> np.ndarray:
        feed = {name: batch[name].numpy() for name in self.inputs if name in batch}
        if "words" in self.inputs:
            feed["words"], feed["word_index"] = unique_words(batch["char_ids"].numpy())
        return self.session.run(None, feed)[0]

    def predict_tokens(self, sentences, *, batch_size: int = 256) -> list[list[str]]:
        """Tags pre-tokenized sentences, in order (see :meth:`lstm_nlp.pipelines.TaggingPipeline.predict_tokens`)."""
        self._require_task("scores", "predict_tokens", "tags sentences")
        sentences = check_sentences(sentences, "predict_tokens")
        labels = self.meta["labels"]
        results: list[list[str]] = [[] for _ in sentences]
        examples = [{**self.pipeline.featurize(tokens), "index": i} for i, tokens in enumerate(sentences) if tokens]
        for batch in self.pipeline.loader(examples, batch_size=batch_size):
            scores, mask = self._run(batch), batch["mask"].numpy()
            for row, index in enumerate(batch["index"].tolist()):
                length = int(mask[row].sum())
                if self._crf is None:
                    ids = scores[row, :length].argmax(-1).tolist()
                else:
                    ids = viterbi_decode(scores[row, :length], **self._crf)
                results[index] = [labels[i] for i in ids]
        return results

    def predict_probabilities(self, texts, *, batch_size: int = 256) -> np.ndarray:
        """Class probabilities ``[len(texts), classes]`` of raw texts (classifiers)."""
        self._require_task("probabilities", "predict_probabilities", "scores texts of a classifier")
        texts = check_texts(texts, "predict_probabilities")
        examples = self.pipeline.featurize(texts)
        out = np.zeros((len(examples), len(self.meta["labels"])), dtype=np.float32)
        for batch in self.pipeline.loader(examples, batch_size=batch_size):
            out[batch["index"].numpy()] = self._run(batch)
        return out
