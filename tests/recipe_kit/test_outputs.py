"""Recipe outputs: splits scored in order, metrics.json, reports named by split on stdout, the bundle."""

import json

from lstm_nlp.recipe_kit.outputs import evaluate_splits, finish, format_reports, write_metrics

REPORT = "              precision\n\n         NOUN     1.0000\n"


class FakePipeline:
    def save_pretrained(self, path):
        path.mkdir(parents=True)
        (path / "config.json").write_text("{}")


def test_only_splits_with_data_are_scored_in_the_given_order():
    scored = evaluate_splits(lambda data: {"n": len(data)}, {"train": None, "dev": [1, 2], "test": [1]})
    assert list(scored) == ["dev", "test"] and scored["dev"] == {"n": 2}


def test_each_report_is_headed_by_its_split():
    text = format_reports({"dev": {"report": REPORT}, "test": {"accuracy": 1.0}, "train": {"report": REPORT}})
    assert text.startswith("== dev ==\n") and "== train ==\n" in text and "== test ==" not in text


def test_finish_writes_metrics_and_bundle_then_prints_reports_and_a_summary_line(tmp_path, capsys):
    metrics = {"dev": {"accuracy": 0.123456, "report": REPORT}, "test": {"accuracy": 0.5, "report": REPORT}}
    summary = finish(FakePipeline(), metrics, tmp_path, keys=("accuracy",), best_epoch=3)
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "== dev ==" and "== test ==" in out
    assert json.loads(out[-1]) == summary == {"dev": {"accuracy": 0.1235}, "test": {"accuracy": 0.5}, "best_epoch": 3,
                                              "model": str(tmp_path / "model")}
    assert json.loads((tmp_path / "metrics.json").read_text()) == {"dev": {"accuracy": 0.123456},
                                                                   "test": {"accuracy": 0.5}}
    assert (tmp_path / "report_test.txt").read_text() == REPORT and (tmp_path / "model" / "config.json").is_file()


def test_other_ranks_write_nothing(monkeypatch, tmp_path):
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "1")
    assert write_metrics(tmp_path / "run", {"dev": {"accuracy": 1.0}}) == tmp_path / "run" / "metrics.json"
    assert not (tmp_path / "run").exists()
