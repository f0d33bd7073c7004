"""Series reading, generation, chronological splitting, scaling and windowing."""

import numpy as np
import pytest
import torch

from lstm_nlp.data.series import (
    Scaler,
    chronological_split,
    make_windows,
    read_series_csv,
    synthetic_series,
    window_loader,
)
from lstm_nlp.errors import ConfigError, DataFormatError


def _csv(tmp_path, text, name="series.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_reads_a_column_by_name_in_file_order(tmp_path):
    path = _csv(tmp_path, "time,load,temp\n1,10.5,3\n2,11,4\n\n3,-2e1,5\n")
    values = read_series_csv(path, "load")
    assert values.dtype == np.float64
    assert values.tolist() == [10.5, 11.0, -20.0]
    assert read_series_csv(path, "temp").tolist() == [3.0, 4.0, 5.0]


@pytest.mark.parametrize("cell", ["", "NA", "nan", "null"])
def test_missing_value_names_file_and_line(tmp_path, cell):
    path = _csv(tmp_path, f"t,load\n1,10\n2,11\n3,{cell}\n4,12\n")
    with pytest.raises(DataFormatError, match="missing value") as info:
        read_series_csv(path, "load")
    assert info.value.path == str(path) and info.value.line == 4
    assert f"{path}:4:" in str(info.value)


def test_short_row_counts_as_missing(tmp_path):
    path = _csv(tmp_path, "t,load\n1,10\n2\n")
    with pytest.raises(DataFormatError, match="missing value") as info:
        read_series_csv(path, "load")
    assert info.value.line == 3


def test_non_numeric_value_is_quoted_with_its_line(tmp_path):
    path = _csv(tmp_path, "t,load\n1,10\n2,high\n")
    with pytest.raises(DataFormatError, match=r"non-numeric value 'high' in column 'load'") as info:
        read_series_csv(path, "load")
    assert info.value.line == 3


def test_unknown_column_lists_the_header(tmp_path):
    path = _csv(tmp_path, "t,load\n1,10\n")
    with pytest.raises(DataFormatError, match=r"no column 'demand'; the header has \['t', 'load'\]"):
        read_series_csv(path, "demand")


def test_too_few_rows_for_window_plus_horizon(tmp_path):
    path = _csv(tmp_path, "load\n" + "\n".join(str(i) for i in range(10)) + "\n")
    with pytest.raises(DataFormatError, match=r"has 10 values but at least 12 are needed \(window \+ horizon\)"):
        read_series_csv(path, "load", min_length=12)
    assert len(read_series_csv(path, "load", min_length=10)) == 10


def test_empty_or_missing_file(tmp_path):
    with pytest.raises(DataFormatError, match="empty"):
        read_series_csv(_csv(tmp_path, ""), "load")
    with pytest.raises(DataFormatError, match="cannot read"):
        read_series_csv(tmp_path / "nope.csv", "load")


def test_synthetic_series_is_seeded_and_has_trend_and_season():
    a, b = synthetic_series(480, seed=3), synthetic_series(480, seed=3)
    assert np.array_equal(a, b) and not np.array_equal(a, synthetic_series(480, seed=4))
    clean = synthetic_series(480, noise=0.0, slope=0.0)
    assert np.allclose(clean[:24], clean[24:48])  # one period repeats exactly
    trended = synthetic_series(480, noise=0.0, slope=0.1)
    assert np.allclose(trended[24:48] - trended[:24], 0.1 * 24)


def test_chronological_split_keeps_order_and_gives_context():
    values = np.arange(100, dtype=np.float64)
    split = chronological_split(values, window=5, horizon=2, val_fraction=0.2, test_fraction=0.1)
    assert split.val_start == 70 and split.test_start == 90
    assert split.train.tolist() == list(range(70))
    assert split.val.tolist() == list(range(65, 90))  # 5 context values, then the val period
    assert split.test.tolist() == list(range(85, 100))
    _, targets = make_windows(split.test, 5, 2)
    assert targets.min() >= 90  # no test target falls before the test period


def test_split_too_short_is_a_clear_error():
    with pytest.raises(ConfigError, match="test period of 2 values, fewer than the 3 needed"):
        chronological_split(np.arange(20.0), window=4, horizon=3, test_fraction=0.1)
    with pytest.raises(ConfigError, match="fraction"):
        chronological_split(np.arange(20.0), window=4, horizon=3, val_fraction=0.6, test_fraction=0.5)


def test_scaler_uses_train_statistics_and_round_trips():
    split = chronological_split(np.arange(100, dtype=np.float64), window=5, horizon=2)
    scaler = Scaler.fit(split.train)
    assert scaler.mean == pytest.approx(np.mean(split.train)) and scaler.std == pytest.approx(np.std(split.train))
    scaled = scaler.transform(split.train)
    assert scaled.mean() == pytest.approx(0.0) and scaled.std() == pytest.approx(1.0)
    assert scaler.transform(split.test).min() > 1.0  # later values are out of the train range, as they should be
    assert np.allclose(scaler.inverse_transform(scaler.transform(split.test)), split.test)
    assert Scaler.from_dict(scaler.to_dict()) == scaler
    assert Scaler.fit(np.full(5, 3.0)).std == 1.0


def test_make_windows_pairs_history_with_next_values():
    history, targets = make_windows(np.arange(10.0), 4, 2)
    assert history.shape == (5, 4) and targets.shape == (5, 2) and history.dtype == torch.float32
    assert history[0].tolist() == [0, 1, 2, 3] and targets[0].tolist() == [4, 5]
    assert history[-1].tolist() == [4, 5, 6, 7] and targets[-1].tolist() == [8, 9]
    history, targets = make_windows(np.arange(10.0), 4, 2, stride=2)
    assert history[:, 0].tolist() == [0, 2, 4]
    with pytest.raises(ConfigError, match="shorter than window"):
        make_windows(np.arange(5.0), 4, 2)


def test_window_loader_batches_for_the_trainer():
    history, targets = make_windows(np.arange(30.0), 4, 2)
    batches = list(window_loader(history, targets, batch_size=8, shuffle=True, seed=1))
    assert sum(len(b["history"]) for b in batches) == len(history)
    first = batches[0]
    assert set(first) == {"history", "mask", "targets"}
    assert first["mask"].dtype == torch.bool and bool(first["mask"].all())
    assert torch.equal(first["targets"][:, 0], first["history"][:, -1] + 1)
    again = next(iter(window_loader(history, targets, batch_size=8, shuffle=True, seed=1)))
    assert torch.equal(again["history"], first["history"])  # seeded shuffling
