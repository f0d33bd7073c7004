"""ONNX export: the graph's scores and the tags/labels equal PyTorch's, for every kind of tagger and classifier."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lstm_nlp.data import Vocab
from lstm_nlp.data.tokenizers import TextTokenizer
from lstm_nlp.errors import ConfigError
from lstm_nlp.export.viterbi import viterbi_decode
from lstm_nlp.models import ClassifierConfig, SequenceTagger, TaggerConfig, TextClassifier
from lstm_nlp.modules.crf import ConditionalRandomField, allowed_transitions
from lstm_nlp.pipelines import ClassificationPipeline, TaggingPipeline
from lstm_nlp.pipelines.tagging import build_char_vocab

pytest.importorskip("onnxruntime", reason="the onnx extra is not installed")
from lstm_nlp.export.onnx import OnnxPipeline, export_onnx  # noqa: E402

SENTENCES = [["The", "cat", "sat", "on", "the", "mat", "."], ["Hello"], ["EU", "rejects", "German", "call", "to",
             "boycott", "British", "lamb", "."], ["Zyzzyva", "quux"], []]
TEXTS = ["A wonderful film .", "", "dull , far too long and the acting is wooden", "great"]


def tagger(tmp_path, *, head, char_encoder, labels, encoder="lstm"):
    torch.manual_seed(0)
    words = Vocab.build([[t.lower() for t in s] for s in SENTENCES], lower=True)
    chars = build_char_vocab(SENTENCES[:3])
    label_vocab = Vocab.build_labels([labels])
    config = TaggerConfig(vocab_size=len(words), num_labels=len(labels), embedding_dim=8, hidden_size=6, num_layers=2,
                          char_encoder=char_encoder, char_vocab_size=len(chars), char_embedding_dim=5,
                          char_hidden_size=4, head=head, encoder=encoder)
    constraints = allowed_transitions(label_vocab.itos) if head == "crf" else None
    pipeline = TaggingPipeline(SequenceTagger(config, constraints=constraints).eval(), words, label_vocab,
                               chars=chars if char_encoder != "none" else None,
                               scheme="iob2" if head == "crf" else "none")
    pipeline.save_pretrained(tmp_path / "model")
    return pipeline


@pytest.mark.parametrize("head, char_encoder, encoder", [("softmax", "lstm", "lstm"), ("softmax", "none", "lstm"),
                                                         ("crf", "cnn", "lstm"), ("crf", "lstm", "lstm"),
                                                         ("softmax", "none", "gru"), ("crf", "lstm", "gru")])
def test_tagger_export_agrees_with_pytorch(tmp_path, head, char_encoder, encoder):
    labels = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"] if head == "crf" else ["DET", "NOUN", "VERB", "PUNCT"]
    pipeline = tagger(tmp_path, head=head, char_encoder=char_encoder, labels=labels, encoder=encoder)
    export_onnx(pipeline, tmp_path / "model.onnx")
    runner = OnnxPipeline(tmp_path / "model.onnx", tmp_path / "model")
    assert runner.predict_tokens(SENTENCES) == pipeline.predict_tokens(SENTENCES)
    batch = next(iter(pipeline.loader([{**pipeline.featurize(s), "index": i} for i, s in enumerate(SENTENCES) if s],
                                      batch_size=8)))
    with torch.no_grad():
        expected = pipeline.model(**{k: v for k, v in batch.items() if k not in ("lengths", "index")}).logits
    got = runner._run(batch)
    mask = batch["mask"].numpy()
    assert np.abs(got - expected.numpy())[mask].max() < 1e-4


@pytest.mark.parametrize("pooling, encoder", [("max", "lstm"), ("mean", "lstm"), ("final", "lstm"), ("final", "gru")])
def test_classifier_export_agrees_with_pytorch(tmp_path, pooling, encoder):
    torch.manual_seed(0)
    tokenizer = TextTokenizer("spacy")
    words = Vocab.build(tokenizer.pipe(TEXTS))
    model = TextClassifier(ClassifierConfig(vocab_size=len(words), num_labels=3, embedding_dim=8, hidden_size=6,
                                            pooling=pooling, encoder=encoder)).eval()
    pipeline = ClassificationPipeline(model, words, Vocab.build_labels(["a", "b", "c"]), tokenizer)
    pipeline.save_pretrained(tmp_path / "model")
    export_onnx(pipeline, tmp_path / "model.onnx")
    runner = OnnxPipeline(tmp_path / "model.onnx", tmp_path / "model")
    expected = pipeline.predict_examples(pipeline.featurize(TEXTS)).numpy()
    assert np.abs(runner.predict_probabilities(TEXTS) - expected).max() < 1e-5


def test_numpy_viterbi_equals_the_crf_decoder():
    torch.manual_seed(1)
    labels = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]
    crf = ConditionalRandomField(len(labels), constraints=allowed_transitions(labels))
    with torch.no_grad():
        crf.start_transitions.normal_()
        crf.end_transitions.normal_()
    emissions = torch.randn(6, 9, len(labels))
    mask = torch.arange(9)[None, :] < torch.tensor([9, 1, 4, 9, 2, 7])[:, None]
    expected = crf.viterbi_decode(emissions, mask=mask)
    params = {"transitions": crf.transitions.detach().numpy(), "start": crf.start_transitions.detach().numpy(),
              "end": crf.end_transitions.detach().numpy(), "allowed": crf.allowed.numpy()}
    got = [viterbi_decode(emissions[i, :int(mask[i].sum())].numpy(), **params) for i in range(6)]
    assert got == expected


def test_a_forecaster_cannot_be_exported(tmp_path):
    from lstm_nlp.data.series import Scaler
    from lstm_nlp.models import Forecaster, ForecasterConfig
    from lstm_nlp.pipelines import ForecastPipeline

    pipeline = ForecastPipeline(Forecaster(ForecasterConfig(window=4, horizon=2, hidden_size=4), scaler=Scaler(0, 1)))
    with pytest.raises(ConfigError, match="takes taggers and text classifiers"):
        export_onnx(pipeline, tmp_path / "f.onnx")


def test_cli_export_writes_the_graph_and_refuses_a_forecaster(tmp_path, capsys):
    from lstm_nlp import cli
    from lstm_nlp.data.series import Scaler
    from lstm_nlp.models import Forecaster, ForecasterConfig
    from lstm_nlp.pipelines import ForecastPipeline

    tagger(tmp_path, head="crf", char_encoder="cnn", labels=["O", "B-PER", "I-PER"])
    assert cli.main(["export", "--model", str(tmp_path / "model"), "--output", str(tmp_path / "m.onnx")]) == 0
    assert (tmp_path / "m.onnx").stat().st_size > 0 and "OnnxPipeline" in capsys.readouterr().err
    ForecastPipeline(Forecaster(ForecasterConfig(window=4, horizon=2, hidden_size=4), scaler=Scaler(0, 1))
                     ).save_pretrained(tmp_path / "fc")
    assert cli.main(["export", "--model", str(tmp_path / "fc"), "--output", str(tmp_path / "f.onnx")]) == 2
    assert "takes taggers and text classifiers" in capsys.readouterr().err


def test_a_missing_onnx_package_names_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "onnx", None)
    pipeline = tagger(tmp_path, head="softmax", char_encoder="none", labels=["DET", "NOUN"])
    with pytest.raises(ConfigError, match=r'pip install "lstm_nlp\[onnx\]"'):
        export_onnx(pipeline, tmp_path / "m.onnx")


def test_the_onnx_runner_checks_argument_types_and_the_model_task(tmp_path):
    pipeline = tagger(tmp_path, head="softmax", char_encoder="none", labels=["DET", "NOUN", "VERB", "PUNCT"])
    export_onnx(pipeline, tmp_path / "model.onnx")
    runner = OnnxPipeline(tmp_path / "model.onnx", tmp_path / "model")
    with pytest.raises(TypeError, match="wrap it in a list"):
        runner.predict_tokens(["The", "cat"])
    with pytest.raises(TypeError, match="predict_text"):
        runner.predict_tokens("The cat")
    with pytest.raises(ConfigError, match="TaggingPipeline: use predict_tokens"):
        runner.predict_probabilities(["The cat"])
