"""``lstm-nlp rank``: the least sure inputs as Label Studio / doccano tasks, its defaults and its errors."""

import json

import pytest

from lstm_nlp import cli
from lstm_nlp.data import Vocab, read_annotations
from lstm_nlp.models import SequenceTagger, TaggerConfig
from lstm_nlp.pipelines import TaggingPipeline

INPUT = "Maria Lopez visited Paris .\n\nZorblat quenched 東京 😀\nAcme sold it\n"


@pytest.fixture
def ner(tmp_path, tiny_ner_tagger):
    pipeline = tiny_ner_tagger()
    pipeline.temperature = 1.3
    pipeline.save_pretrained(tmp_path / "ner")
    (tmp_path / "in.txt").write_text(INPUT, encoding="utf-8")
    return tmp_path / "ner"


def _rank(capsys, *argv):
    code = cli.main(["rank", *map(str, argv)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_label_studio_tasks_least_sure_first_with_line_numbers(ner, capsys):
    code, out, _ = _rank(capsys, "--model", ner, "--input", ner.parent / "in.txt", "--top", "2")
    tasks = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and len(tasks) == 2
    assert tasks[0]["data"]["text"] == "Zorblat quenched 東京 😀" and tasks[0]["data"]["line"] == 3
    assert tasks[0]["data"]["uncertainty"] >= tasks[1]["data"]["uncertainty"]
    assert tasks[0]["data"]["uncertainty_by"] == "entropy"
    prediction = tasks[1]["predictions"][0]
    assert prediction["model_version"] == "lstm_nlp ner" and 0 < prediction["score"] <= 1
    for region in prediction["result"]:
        assert region["type"] == "labels" and region["from_name"] == "label" and region["to_name"] == "text"


def test_a_json_output_is_one_list_and_doccano_records_read_back_for_retraining(ner, capsys, tmp_path):
    out = tmp_path / "tasks.json"
    code, _, err = _rank(capsys, "--model", ner, "--input", tmp_path / "in.txt", "--output", out, "--by", "margin")
    tasks = json.loads(out.read_text(encoding="utf-8"))
    assert code == 0 and len(tasks) == 3 and "wrote 3 label-studio task(s)" in err
    code, records, _ = _rank(capsys, "--model", ner, "--input", tmp_path / "in.txt", "--format", "doccano",
                             "--by", "least-confidence", "--aggregate", "max")
    (tmp_path / "export.jsonl").write_text(records, encoding="utf-8")  # annotated as the model said
    data = read_annotations(tmp_path / "export.jsonl", labels=["PER", "LOC", "ORG"])
    by_text = {" ".join(tokens): tags for tokens, tags in zip(data["tokens"], data["tags"])}
    assert by_text["Maria Lopez visited Paris ."][:2] == ["B-PER", "I-PER"]
    assert set(by_text) == {"Maria Lopez visited Paris .", "Zorblat quenched 東京 😀", "Acme sold it"}


def test_pre_tokenized_input_is_joined_by_single_spaces(ner, capsys, tmp_path):
    (tmp_path / "tokens.txt").write_text("Maria\tLopez  visited\n", encoding="utf-8")
    code, out, _ = _rank(capsys, "--model", ner, "--input", tmp_path / "tokens.txt", "--input-format", "tokens")
    task = json.loads(out)
    assert code == 0 and task["data"]["text"] == "Maria Lopez visited"
    assert [r["value"]["text"] for r in task["predictions"][0]["result"]][:1] == ["Maria Lopez"]


def test_top_beyond_the_input_writes_everything_with_a_note(ner, capsys):
    code, out, err = _rank(capsys, "--model", ner, "--input", ner.parent / "in.txt", "--top", "50")
    assert code == 0 and len(out.splitlines()) == 3
    assert "--top 50 is more than the 3 input(s); writing all 3" in err


def test_an_empty_input_is_a_one_line_error(ner, capsys, tmp_path):
    (tmp_path / "empty.txt").write_text("\n  \n", encoding="utf-8")
    code, out, err = _rank(capsys, "--model", ner, "--input", tmp_path / "empty.txt")
    assert code == 2 and out == ""
    assert err == f"lstm-nlp rank: error: {tmp_path / 'empty.txt'}: no text to rank (the input is empty or only " \
                  "blank lines)\n"


def test_a_bundle_without_a_temperature_ranks_at_temperature_one(ner, capsys):
    config = ner / "config.json"
    saved = json.loads(config.read_text())
    raw = _rank(capsys, "--model", ner, "--input", ner.parent / "in.txt", "--no-calibrate")[1]
    calibrated = _rank(capsys, "--model", ner, "--input", ner.parent / "in.txt")[1]
    meta = next(v for v in saved.values() if isinstance(v, dict) and "temperature" in v)
    del meta["temperature"]
    config.write_text(json.dumps(saved))
    code, out, err = _rank(capsys, "--model", ner, "--input", ner.parent / "in.txt")
    assert code == 0 and err == "" and out == raw != calibrated


def test_models_rank_cannot_take_are_clear_errors(tmp_path, capsys):
    from lstm_nlp.data.tokenizers import TextTokenizer
    from lstm_nlp.models import ClassifierConfig, TextClassifier
    from lstm_nlp.pipelines import ClassificationPipeline

    (tmp_path / "in.txt").write_text("a film\n", encoding="utf-8")
    words, tags = Vocab.build([["a", "film"]]), Vocab.build_labels([["DET", "NOUN"]])
    config = TaggerConfig(vocab_size=len(words), num_labels=2, embedding_dim=4, hidden_size=4, num_layers=1)
    TaggingPipeline(SequenceTagger(config), words, tags).save_pretrained(tmp_path / "pos")
    code, _, err = _rank(capsys, "--model", tmp_path / "pos", "--input", tmp_path / "in.txt")
    assert code == 2 and "this tagger's tags are per token" in err and err.count("\n") == 1

    model = TextClassifier(ClassifierConfig(vocab_size=len(words), num_labels=2, embedding_dim=4, hidden_size=4))
    ClassificationPipeline(model, words, Vocab.build_labels(["neg", "pos"]),
                           TextTokenizer("spacy")).save_pretrained(tmp_path / "clf")
    code, out, _ = _rank(capsys, "--model", tmp_path / "clf", "--input", tmp_path / "in.txt", "--format", "doccano")
    assert code == 0 and json.loads(out)["label"][0] in ("neg", "pos")
    code, _, err = _rank(capsys, "--model", tmp_path / "clf", "--input", tmp_path / "in.txt", "--input-format",
                         "tokens")
    assert code == 2 and "--input-format tokens applies to taggers" in err


def test_the_cli_choices_are_the_ranking_modules():
    from lstm_nlp.pipelines.ranking import AGGREGATES, MEASURES

    assert cli.RANK_MEASURES == MEASURES and cli.RANK_AGGREGATES == AGGREGATES
