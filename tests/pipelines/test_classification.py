"""ClassificationPipeline: prediction, evaluation, bundles (with a trained subword tokenizer), the CLI."""

import json

import pytest
import torch
from datasets import Dataset

from lstm_nlp import cli
from lstm_nlp.data import TextTokenizer, Vocab, build_vocab, tokenize_dataset
from lstm_nlp.errors import ConfigError, DataFormatError
from lstm_nlp.models import ClassifierConfig, TextClassifier
from lstm_nlp.pipelines import ClassificationPipeline, load_pipeline
from lstm_nlp.training import Trainer, TrainerConfig

TRAIN = Dataset.from_dict({
    "text": ["great fun", "a great film", "loved it, great", "awful mess", "an awful film", "boring, awful"] * 2,
    "label": ["pos", "pos", "pos", "neg", "neg", "neg"] * 2,
})


def _pipeline(kind="spacy", *, max_length=None, train_steps=0, labels=("neg", "pos")):
    torch.manual_seed(0)
    tokenizer = TextTokenizer.fit(list(TRAIN["text"]), kind, vocab_size=60, min_frequency=1)
    words = build_vocab(tokenize_dataset(TRAIN, tokenizer))
    model = TextClassifier(ClassifierConfig(vocab_size=len(words), num_labels=len(labels), embedding_dim=8,
                                            hidden_size=6, dropout=0.0))
    pipeline = ClassificationPipeline(model, words, Vocab.build_labels(labels), tokenizer,
                                      label_names=["neg", "pos"], max_length=max_length)
    if train_steps:
        examples = pipeline.encode(TRAIN)
        Trainer(model, TrainerConfig(epochs=train_steps, lr=0.05, device="cpu", progress=False),
                train_loader=pipeline.loader(examples, batch_size=4, shuffle=True)).fit()
    return pipeline


@pytest.fixture(scope="module")
def trained():
    return _pipeline(train_steps=8)


def test_a_trained_pipeline_predicts_labels_and_probabilities(trained):
    predictions = trained.predict(["a great film", "awful, boring"])
    assert [label for label, _ in predictions] == ["pos", "neg"]
    assert all(0.5 <= p <= 1.0 for _, p in predictions)
    metrics = trained.evaluate(TRAIN)
    assert metrics["accuracy"] == 1.0 and metrics["f1"] == 1.0
    assert metrics["confusion"] == {"labels": ["neg", "pos"], "matrix": [[6, 0], [0, 6]]}


def test_predict_lines_gives_one_line_per_input_even_for_empty_or_odd_lines(trained):
    lines = ["a great film\n", "", "   ", "<br />", "\u00e9\u00e9 \U0001F600 zzz", "awful\r\n"]
    out = list(trained.predict_lines(lines, chunk_size=2))
    assert len(out) == len(lines)
    for line in out:
        label, probability = line.split("\t")
        assert label in ("neg", "pos") and 0.5 <= float(probability) <= 1.0
    assert out[0].startswith("pos\t") and out[-1].startswith("neg\t")
    assert trained.predict([]) == []
    assert list(trained.predict_lines(lines, chunk_size=2, workers=2)) == out  # worker processes: the same


def test_max_length_keeps_the_first_tokens():
    pipeline = _pipeline(max_length=2)
    assert [len(e["token_ids"]) for e in pipeline.featurize(["a great film indeed", "ok"])] == [2, 1]
    assert max(len(e["token_ids"]) for e in pipeline.encode(TRAIN)) == 2


def test_label_outside_the_label_set_is_a_clear_error_for_training_and_an_error_in_evaluation(trained):
    bad = Dataset.from_dict({"text": ["great", "meh"], "label": ["pos", "neutral"]})
    with pytest.raises(DataFormatError, match="record 2 has label 'neutral'.*\\['neg', 'pos'\\]"):
        trained.encode(bad)
    with pytest.raises(ConfigError, match="unknown_labels"):
        trained.encode(bad, unknown_labels="skip")
    metrics = trained.evaluate(bad)
    assert metrics["unknown_gold_labels"] == 1 and metrics["accuracy"] <= 0.5


@pytest.mark.parametrize("kind", ["bpe", "wordpiece", "spacy"])
def test_save_load_round_trip_includes_the_trained_tokenizer(tmp_path, kind):
    pipeline = _pipeline(kind, max_length=50)
    pipeline.save_pretrained(tmp_path / "model")
    assert (tmp_path / "model" / "tokenizer.json").exists() == (kind != "spacy")
    loaded = load_pipeline(tmp_path / "model")
    assert isinstance(loaded, ClassificationPipeline)
    assert loaded.tokenizer.settings() == pipeline.tokenizer.settings()
    assert loaded.tokenizer.fingerprint() == pipeline.tokenizer.fingerprint()
    assert (loaded.max_length, loaded.positive_label, loaded.label_names) == (50, "pos", ["neg", "pos"])
    texts = ["great fun!", "unseen words here", ""]
    assert [loaded.tokenizer(t) for t in texts] == [pipeline.tokenizer(t) for t in texts]
    assert loaded.predict(texts) == pipeline.predict(texts)


def test_bundle_with_a_missing_subword_model_is_refused(tmp_path):
    from lstm_nlp.errors import BundleError

    _pipeline("bpe").save_pretrained(tmp_path / "model")
    (tmp_path / "model" / "tokenizer.json").unlink()
    with pytest.raises(BundleError, match="bpe tokenizer but has no tokenizer.json"):
        ClassificationPipeline.from_pretrained(tmp_path / "model")


def test_multiclass_pipeline_reports_macro_scores():
    pipeline = _pipeline(labels=("neg", "neutral", "pos"))
    assert pipeline.positive_label is None
    data = Dataset.from_dict({"text": ["great", "fine", "awful"], "label": ["pos", "neutral", "neg"]})
    metrics = pipeline.evaluate(data)
    assert set(metrics["per_label"]) == {"neg", "neutral", "pos"} and "macro" in metrics["report"]


def test_cli_predict_and_evaluate_on_a_classifier_bundle(tmp_path, capsys, monkeypatch, trained):
    import datasets

    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path / "hf")  # keep ~/.cache clean
    trained.save_pretrained(tmp_path / "model")
    (tmp_path / "in.txt").write_text("a great film\n\nawful mess\n", encoding="utf-8")
    assert cli.main(["predict", "--model", str(tmp_path / "model"), "--input", str(tmp_path / "in.txt")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3 and lines[0].startswith("pos\t") and lines[2].startswith("neg\t")
    rows = [{"text": "a great film", "label": 1}, {"text": "awful mess", "label": 0}]
    (tmp_path / "test.jsonl").write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    assert cli.main(["evaluate", "--model", str(tmp_path / "model"), "--data", str(tmp_path / "test.jsonl")]) == 0
    captured = capsys.readouterr()
    metrics = json.loads(captured.out)
    assert metrics["accuracy"] == 1.0 and {"precision", "recall", "f1", "confusion"} <= set(metrics)
    assert "positive class 'pos'" in captured.err


@pytest.mark.parametrize("argument, hint", [
    ("Great film!", r"pass \['Great film!'\]"),
    (b"Great film!", "not one bytes"),
    (["Great film!", None], "item 1 is a NoneType"),
    (3.5, "got float"),
])
def test_predict_with_a_wrong_argument_type_is_a_type_error_saying_what_to_pass(trained, argument, hint):
    with pytest.raises(TypeError, match=hint):
        trained.predict(argument)


def test_evaluate_takes_a_path_as_the_cli_does(trained, tmp_path):
    path = tmp_path / "test.jsonl"
    path.write_text("".join(json.dumps({"text": t, "label": y}) + "\n" for t, y in zip(TRAIN["text"], TRAIN["label"])),
                    encoding="utf-8")
    assert trained.evaluate(path) == trained.evaluate(TRAIN)
    assert trained.evaluate(str(path))["accuracy"] == 1.0


def test_a_fitted_temperature_changes_probabilities_not_labels_and_travels_in_the_bundle(tmp_path):
    pipeline = _pipeline(train_steps=8)
    texts = list(TRAIN["text"])
    before = pipeline.predict(texts)
    temperature = pipeline.fit_temperature(TRAIN)
    after = pipeline.predict(texts)
    assert temperature != 1.0 and [label for label, _ in after] == [label for label, _ in before]
    assert [p for _, p in after] != [p for _, p in before]
    pipeline.save_pretrained(tmp_path / "model")
    loaded = load_pipeline(tmp_path / "model")
    assert loaded.temperature == pytest.approx(temperature) and loaded.predict(texts) == after


def test_cli_evaluate_reports_calibration_writes_plots_and_no_calibrate_scores_the_raw_model(tmp_path, capsys,
                                                                                          monkeypatch):
    import datasets

    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path / "hf")
    pipeline = _pipeline(train_steps=8)
    pipeline.fit_temperature(TRAIN)
    pipeline.save_pretrained(tmp_path / "model")
    rows = [{"text": t, "label": ["neg", "pos"].index(label)} for t, label in zip(TRAIN["text"], TRAIN["label"])]
    (tmp_path / "test.jsonl").write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    args = ["evaluate", "--model", str(tmp_path / "model"), "--data", str(tmp_path / "test.jsonl")]
    assert cli.main([*args, "--plots", str(tmp_path / "plots")]) == 0
    calibrated = json.loads(capsys.readouterr().out)
    assert calibrated["temperature"] == pytest.approx(pipeline.temperature)
    assert set(calibrated["calibration"]["class"]) == {"ece", "brier", "mean_confidence", "accuracy", "count"}
    assert (tmp_path / "plots" / "reliability_class.png").read_bytes()[:4] == b"\x89PNG"
    assert cli.main([*args, "--no-calibrate"]) == 0
    raw = json.loads(capsys.readouterr().out)
    assert raw["temperature"] == 1.0 and raw["accuracy"] == calibrated["accuracy"]
    assert raw["calibration"]["class"]["mean_confidence"] != calibrated["calibration"]["class"]["mean_confidence"]
    (tmp_path / "a_file").write_text("x")
    assert cli.main([*args, "--plots", str(tmp_path / "a_file")]) == 2
    assert "--plots" in capsys.readouterr().err
