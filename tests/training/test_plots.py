"""Training-curve and confusion-matrix PNGs, the summary table, and write_metrics' confusion plot."""

import numpy as np
import pytest

from lstm_nlp.recipe_kit.outputs import write_metrics
from lstm_nlp.training.plots import OTHER_LABEL, _cap_labels, plot_confusion_matrix, plot_training_curve
from lstm_nlp.training.tracking import RunLog, summary_table

PNG = b"\x89PNG\r\n\x1a\n"
HISTORY = [{"epoch": e, "train_loss": 2.0 / e, "dev_accuracy": 0.5 + e / 10, "lr": 0.01 / e,
            "train_tokens_per_s": 1000.0, "train_seconds": 1.5} for e in range(1, 4)]


def test_training_curve_png(tmp_path):
    path = plot_training_curve(HISTORY, tmp_path / "curve.png", metric="accuracy", best_epoch=3)
    assert path.read_bytes()[:8] == PNG
    # Without dev metrics or lr changes there is a single panel; still a valid PNG.
    plain = [{"epoch": 1, "train_loss": 1.0}]
    assert plot_training_curve(plain, tmp_path / "plain.png").read_bytes()[:8] == PNG


def test_run_log_draws_at_close_and_appends_jsonl(tmp_path):
    log = RunLog(tmp_path, metric="accuracy", plot_interval=3600)
    log.start([])
    for record in HISTORY:
        log.epoch(record, HISTORY[: record["epoch"]], best_epoch=record["epoch"])
    assert not (tmp_path / "training_curve.png").exists()  # throttled during the run
    log.close()
    assert (tmp_path / "training_curve.png").read_bytes()[:8] == PNG
    assert len((tmp_path / "metrics.jsonl").read_text().splitlines()) == 3


def test_tensorboard_is_optional(tmp_path, caplog):
    log = RunLog(tmp_path, metric="accuracy", tensorboard=True)
    try:
        import tensorboard  # noqa: F401
    except ImportError:
        assert log.writer is None and "not installed" in caplog.text
    else:
        log.epoch(HISTORY[0], HISTORY[:1], best_epoch=1)
        assert list((tmp_path / "tensorboard").iterdir())
    log.close()


def test_confusion_matrix_caps_labels_and_keeps_counts(tmp_path):
    rng = np.random.default_rng(0)
    labels = [f"L{i:02d}" for i in range(50)]
    matrix = rng.integers(0, 20, size=(50, 50)) + np.diag(rng.integers(50, 500, size=50))
    capped, pooled = _cap_labels(labels, matrix, 40)
    assert len(capped) == 40 and capped[-1] == OTHER_LABEL
    assert pooled.sum() == matrix.sum() and np.trace(pooled[:-1, :-1]) <= np.trace(matrix)
    kept_support = sorted(matrix.sum(1))[-39:]
    assert sorted(pooled[:-1].sum(1).tolist()) == sorted(int(v) for v in kept_support)
    path = plot_confusion_matrix({"labels": labels, "matrix": matrix.tolist()}, tmp_path / "cm.png")
    assert path.read_bytes()[:8] == PNG


def test_write_metrics_draws_the_dev_confusion_matrix(tmp_path):
    confusion = {"labels": ["A", "B"], "matrix": [[3, 1], [0, 4]]}
    metrics = {"train": {"accuracy": 1.0, "confusion": confusion},
               "dev": {"accuracy": 0.875, "report": "r", "confusion": confusion}}
    write_metrics(tmp_path, metrics)
    assert (tmp_path / "confusion_matrix.png").read_bytes()[:8] == PNG
    assert "confusion" not in (tmp_path / "metrics.json").read_text()


def test_write_metrics_is_a_no_op_on_other_ranks(tmp_path, monkeypatch):
    monkeypatch.setenv("RANK", "1")
    monkeypatch.setenv("WORLD_SIZE", "2")
    write_metrics(tmp_path / "out", {"dev": {"accuracy": 1.0}})
    assert not (tmp_path / "out").exists()


def test_summary_table_marks_the_selected_epoch():
    table = summary_table(HISTORY, metric="accuracy", best_epoch=2)
    lines = table.splitlines()
    assert lines[0].split() == ["epoch", "train", "loss", "dev", "accuracy", "lr", "tokens/s", "seconds"]
    assert lines[3].split()[0] == "2*" and lines[3].split()[2] == "0.7000"
    assert lines[-1] == "* selected epoch 2"


@pytest.mark.parametrize("count", [5, 60])
def test_confusion_png_for_small_and_large_label_sets(tmp_path, count):
    labels = [f"T{i}" for i in range(count)]
    matrix = np.eye(count, dtype=int) * 10 + 1
    out = plot_confusion_matrix({"labels": labels, "matrix": matrix.tolist()}, tmp_path / "m.png")
    assert out.stat().st_size > 1000
