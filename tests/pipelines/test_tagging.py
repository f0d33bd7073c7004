"""TaggingPipeline with character features and a CRF: featurize, formats, evaluate, bundles."""

import json

import pytest
import torch

from lstm_nlp.data import Vocab
from lstm_nlp.data.conll import read_conll
from lstm_nlp.errors import BundleError, DataFormatError
from lstm_nlp.models import SequenceTagger, TaggerConfig
from lstm_nlp.modules.crf import allowed_transitions
from lstm_nlp.pipelines import TaggingPipeline, load_pipeline
from lstm_nlp.pipelines.tagging import build_char_vocab

CONLL = """-DOCSTART- -X- -X- O

Maria NNP B-NP B-PER
Lopez NNP I-NP I-PER
visited VBD B-VP O
Paris NNP B-NP B-LOC
. . O O

Acme NNP B-NP B-ORG
sold VBD B-VP O
it PRP B-NP O
"""


@pytest.fixture
def conll_file(tmp_path):
    path = tmp_path / "ner.txt"
    path.write_text(CONLL, encoding="utf-8")
    return path


def _pipeline(data, *, char_encoder="cnn", head="crf") -> TaggingPipeline:
    words = Vocab.build(data["tokens"], lower=True)
    labels = Vocab.build_labels(data["tags"])
    chars = build_char_vocab(data["tokens"])
    config = TaggerConfig(vocab_size=len(words), num_labels=len(labels), embedding_dim=8, hidden_size=6,
                          num_layers=1, char_encoder=char_encoder, char_vocab_size=len(chars), char_hidden_size=4,
                          char_embedding_dim=4, head=head)
    model = SequenceTagger(config, constraints=allowed_transitions(labels.itos) if head == "crf" else None)
    return TaggingPipeline(model, words, labels, chars=chars, scheme="iob2", tag_column=3)


def test_featurize_gives_char_ids_with_original_case(conll_file):
    pipeline = _pipeline(read_conll(conll_file, tag_column=3))
    example = pipeline.featurize(["Maria", "MARIA"])
    assert example["token_ids"][0] == example["token_ids"][1]  # lower-cased word vocabulary
    assert example["char_ids"][0] != example["char_ids"][1]  # the characters keep the case
    assert list(example["char_ids"][0]) == pipeline.chars.encode("Maria")
    assert "char_ids" not in _pipeline(read_conll(conll_file, tag_column=3), char_encoder="none").featurize(["a"])


def test_save_load_gives_identical_predictions_for_a_char_crf_tagger(conll_file, tmp_path):
    torch.manual_seed(0)
    data = read_conll(conll_file, tag_column=3)
    pipeline = _pipeline(data)
    pipeline.save_pretrained(tmp_path / "model")
    assert (tmp_path / "model" / "chars.vocab.json").exists()
    loaded = load_pipeline(tmp_path / "model")
    sentences = [["Maria", "visited", "Osaka", "!"], ["unseen", "ÜBER"], []]
    assert loaded.predict_tokens(sentences) == pipeline.predict_tokens(sentences)
    assert list(loaded.predict_lines(["Maria visited Paris.", ""])) == list(pipeline.predict_lines(
        ["Maria visited Paris.", ""]))
    assert loaded.chars == pipeline.chars and loaded.tag_column == 3 and loaded.label_scheme == "iob2"


def test_label_scheme_is_read_from_bundles_that_store_it_under_its_old_name(conll_file, tmp_path):
    _pipeline(read_conll(conll_file, tag_column=3)).save_pretrained(tmp_path / "model")
    config = tmp_path / "model" / "config.json"
    header = json.loads(config.read_text(encoding="utf-8"))
    assert header["meta"]["label_scheme"] == header["meta"]["scheme"] == "iob2"  # older releases read "scheme"
    del header["meta"]["label_scheme"]  # a bundle written before the rename
    config.write_text(json.dumps(header), encoding="utf-8")
    loaded = load_pipeline(tmp_path / "model")
    assert loaded.label_scheme == loaded.scheme == "iob2"
    with pytest.raises(AttributeError):
        loaded.scheme = "none"  # the old name is a read-only alias


def test_read_labelled_picks_the_format_by_extension(conll_file, sample_dir):
    data = read_conll(conll_file, tag_column=3)
    pipeline = _pipeline(data)
    assert pipeline.read_labelled(conll_file)["tags"] == data["tags"]
    assert pipeline.read_labelled(conll_file, tag_column="2")["tags"][0][0] == "B-NP"
    upos = pipeline.read_labelled(sample_dir / "pos" / "dev.conllu")
    assert upos["tags"][0][0] in {"DET", "PROPN", "PRON", "ADV"}
    with pytest.raises(DataFormatError, match="column number"):
        pipeline.read_labelled(conll_file, tag_column="upos")


def test_column_file_options_on_a_conllu_file_are_refused_not_ignored(conll_file, sample_dir):
    pipeline = _pipeline(read_conll(conll_file, tag_column=3))
    conllu = sample_dir / "pos" / "dev.conllu"
    with pytest.raises(DataFormatError, match=r"dev\.conllu: a tag scheme \('iob1'\) applies to CoNLL column files"):
        pipeline.read_labelled(conllu, scheme="iob1")
    with pytest.raises(DataFormatError, match=r"dev\.conllu: tag column '3' is for CoNLL column files"):
        pipeline.read_labelled(conllu, tag_column="3")


def test_evaluate_scores_entities_and_a_trained_crf_fits_tiny_data(conll_file):
    torch.manual_seed(0)
    data = read_conll(conll_file, tag_column=3)
    pipeline = _pipeline(data)
    optimizer = torch.optim.Adam(pipeline.model.parameters(), lr=0.05)
    batch = next(iter(pipeline.loader(pipeline.encode(data), batch_size=2)))
    pipeline.model.train()
    for _ in range(40):
        optimizer.zero_grad()
        pipeline.model(**{k: v for k, v in batch.items() if k not in ("lengths", "index")}).loss.backward()
        optimizer.step()
    metrics = pipeline.evaluate(data)
    assert metrics["f1"] == 1.0 and metrics["precision"] == 1.0 and "LOC" in metrics["per_tag"]


def test_missing_char_vocabulary_is_refused(conll_file):
    pipeline = _pipeline(read_conll(conll_file, tag_column=3))
    with pytest.raises(BundleError, match="character"):
        TaggingPipeline(pipeline.model, pipeline.words, pipeline.labels)


def test_a_bioes_model_learns_converted_labels_and_speaks_iob2_to_files():
    from datasets import Dataset

    words = Vocab.build([["peter", "sleeps"]])
    labels = Vocab.build_labels([["B-PER", "E-PER", "S-PER", "I-PER", "O"]])
    config = TaggerConfig(vocab_size=len(words), num_labels=len(labels), embedding_dim=4, hidden_size=4, num_layers=1)
    model = SequenceTagger(config)
    with torch.no_grad():  # an untrained model that says S-PER everywhere
        model.head.projection.bias[labels.stoi["S-PER"]] = 100.0
    pipeline = TaggingPipeline(model, words, labels, scheme="bioes", file_scheme="iob2")
    data = Dataset.from_dict({"tokens": [["Peter", "Pan", "sleeps"]], "tags": [["B-PER", "I-PER", "O"]]})
    assert labels.decode(pipeline.encode(data)[0]["label_ids"]) == ["B-PER", "E-PER", "O"]  # IOB2 file -> BIOES
    assert pipeline.predict_tokens([["Peter", "sleeps"]]) == [["S-PER", "S-PER"]]  # the model's own labels
    assert list(pipeline.predict_lines(["Peter sleeps"], input_format="tokens")) == ["Peter/B-PER sleeps/B-PER"]
    metrics = pipeline.evaluate(data)  # spans scored in IOB2: 3 one-token PER spans predicted, 1 gold span
    assert (metrics["precision"], metrics["recall"]) == (0.0, 0.0) and metrics["unknown_gold_tags"] == 0


@pytest.mark.parametrize("method, argument, hint", [
    ("predict_text", "Maria visited Paris", r"pass \['Maria visited Paris'\]"),
    ("predict_text", [["Maria", "visited"]], "item 0 is a list"),
    ("predict_tokens", "Maria visited Paris", "predict_text"),
    ("predict_tokens", ["Maria", "visited", "Paris"], "item 0 is a str .one sentence. wrap it in a list"),
    ("predict_tokens", [["Maria", 3]], "sentence 0 has a int token"),
    ("predict_tokens", 17, "got int"),
    ("predict_top_k", ["Maria", "visited"], "item 0 is a str"),
])
def test_a_wrong_argument_type_is_a_type_error_saying_what_to_pass(conll_file, method, argument, hint):
    pipeline = _pipeline(read_conll(conll_file, tag_column=3))
    args = (argument, 2) if method == "predict_top_k" else (argument,)
    with pytest.raises(TypeError, match=hint):
        getattr(pipeline, method)(*args)


def test_predict_tokens_still_takes_tuples_and_generators(conll_file):
    pipeline = _pipeline(read_conll(conll_file, tag_column=3))
    expected = pipeline.predict_tokens([["Maria", "visited"], []])
    assert pipeline.predict_tokens(tuple(s) for s in (("Maria", "visited"), ())) == expected
    assert len(expected[0]) == 2 and expected[1] == []


def test_evaluate_takes_a_path_as_the_cli_does(conll_file):
    data = read_conll(conll_file, tag_column=3)
    pipeline = _pipeline(data)
    assert pipeline.evaluate(conll_file) == pipeline.evaluate(data)
    assert pipeline.evaluate(str(conll_file)) == pipeline.evaluate(data)
    with pytest.raises(DataFormatError, match="missing.txt"):
        pipeline.evaluate(conll_file.parent / "missing.txt")


def _trained(data, head, steps=15):
    torch.manual_seed(0)
    pipeline = _pipeline(data, head=head)
    optimizer = torch.optim.Adam(pipeline.model.parameters(), lr=0.05)
    batch = next(iter(pipeline.loader(pipeline.encode(data), batch_size=2)))
    pipeline.model.train()
    for _ in range(steps):
        optimizer.zero_grad()
        pipeline.model(**{k: v for k, v in batch.items() if k not in ("lengths", "index")}).loss.backward()
        optimizer.step()
    return pipeline


@pytest.mark.parametrize("head", ["crf", "softmax"])
def test_a_fitted_temperature_changes_no_tag_and_travels_in_the_bundle(conll_file, tmp_path, head):
    data = read_conll(conll_file, tag_column=3)
    pipeline = _trained(data, head)
    tags, raw = pipeline.predict_probabilities(data["tokens"])
    temperature = pipeline.fit_temperature(data)
    assert temperature != 1.0 and pipeline.temperature == temperature
    calibrated_tags, calibrated = pipeline.predict_probabilities(data["tokens"])
    assert calibrated_tags == tags and calibrated != raw

    pipeline.save_pretrained(tmp_path / "bundle")
    loaded = load_pipeline(tmp_path / "bundle")
    assert loaded.temperature == pytest.approx(temperature)
    assert loaded.predict_probabilities(data["tokens"]) == (calibrated_tags, calibrated)
    loaded.temperature = 1.0
    assert loaded.predict_probabilities(data["tokens"])[1] == raw


def test_a_bundle_without_a_temperature_loads_with_one_and_a_bad_one_is_refused(conll_file, tmp_path):
    data = read_conll(conll_file, tag_column=3)
    _pipeline(data).save_pretrained(tmp_path / "b")
    config = tmp_path / "b" / "config.json"
    saved = json.loads(config.read_text())
    meta_key = next(k for k, v in saved.items() if isinstance(v, dict) and "temperature" in v)
    del saved[meta_key]["temperature"]
    config.write_text(json.dumps(saved))
    assert load_pipeline(tmp_path / "b").temperature == 1.0
    saved[meta_key]["temperature"] = -2.0
    config.write_text(json.dumps(saved))
    with pytest.raises(BundleError, match="temperature"):
        load_pipeline(tmp_path / "b")


def test_calibration_reports_token_and_span_ece_and_brier(conll_file):
    data = read_conll(conll_file, tag_column=3)
    pipeline = _trained(data, "crf", steps=40)
    report = pipeline.calibration(data)
    assert set(report) == {"token", "span"}
    assert report["token"]["count"] == sum(len(t) for t in data["tokens"])
    assert report["span"]["count"] == 3 and report["span"]["accuracy"] == 1.0  # Maria Lopez, Paris, Acme
    for kind in report.values():
        assert 0 <= kind["ece"] <= 1 and 0 <= kind["brier"] <= 1
    metrics = pipeline.evaluate(data, calibration=True)
    assert metrics["calibration"]["span"]["ece"] == report["span"]["ece"] and metrics["f1"] == 1.0
    assert "calibration" not in pipeline.evaluate(data)


def test_format_sentences_writes_what_format_predictions_writes_for_the_same_tokens(conll_file):
    pipeline = _pipeline(read_conll(conll_file, tag_column=3))
    lines = ["Maria visited Paris", "", "Paris"]
    for options in ({}, {"probabilities": True}, {"top_k": 2}):
        expected = pipeline.format_predictions(lines, batch_size=8, first_line=1, input_format="tokens",
                                               output_format="jsonl", **options)
        assert pipeline.format_sentences([line.split() for line in lines], batch_size=8, **options) == expected
    spaced = json.loads(pipeline.format_sentences([["New York", "Paris"]])[0])
    assert spaced["tokens"] == ["New York", "Paris"] and len(spaced["tags"]) == 2
    with pytest.raises(TypeError, match="format_sentences"):
        pipeline.format_sentences("Maria visited Paris")
