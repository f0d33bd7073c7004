"""``--class-weights auto|none|FILE``: the auto formula, the file formats and their one-line errors."""

import argparse
import json
import math

import pytest

from lstm_nlp.argtypes import class_weights_spec
from lstm_nlp.errors import DataFormatError, LstmNlpError
from lstm_nlp.recipe_kit.class_weights import auto_class_weights, class_weights_for, label_counts, read_class_weights

LABELS = ["B-MISC", "B-PER", "I-PER", "O"]


def test_auto_is_the_square_root_of_inverse_frequency_scaled_to_mean_one_with_b_and_i_counted_apart():
    tags = [["B-PER", "I-PER", "O", "O"], ["B-MISC", "O", "O", "O"], ["B-PER", "O", "O", "O"]]
    counts = label_counts(tags)
    assert counts == {"O": 8, "B-PER": 2, "I-PER": 1, "B-MISC": 1}
    weights = class_weights_for("auto", LABELS, tags)
    raw = [math.sqrt(12 / (4 * n)) for n in (1, 2, 1, 8)]
    assert weights == pytest.approx([w / (sum(raw) / 4) for w in raw])
    assert sum(weights) / len(weights) == pytest.approx(1.0)
    assert weights[0] == weights[2] > weights[1] > weights[3]  # B-MISC, I-PER (1 each) > B-PER (2) > O (8)
    assert class_weights_for("none", LABELS, tags) is None
    assert auto_class_weights(["neg", "pos"], {"neg": 50, "pos": 50}) == pytest.approx((1.0, 1.0))


def test_a_json_or_tab_separated_file_sets_the_listed_labels_and_leaves_the_others_at_one(tmp_path):
    (tmp_path / "w.json").write_text(json.dumps({"B-MISC": 3, "O": 0.5}))
    assert read_class_weights(tmp_path / "w.json", LABELS) == (3.0, 1.0, 1.0, 0.5)
    (tmp_path / "w.tsv").write_text("# label weight\nB-MISC\t3\n\nO\t0.5\n")
    assert class_weights_for(str(tmp_path / "w.tsv"), LABELS, []) == (3.0, 1.0, 1.0, 0.5)


@pytest.mark.parametrize("text, message", [
    ('{"B-LOC": 2}', "unknown label 'B-LOC'"),
    ('{"O": -1}', "must be a finite number > 0, got -1"),
    ('{"O": NaN}', "must be a finite number > 0, got nan"),
    ('{"O": Infinity}', "must be a finite number > 0, got inf"),
    ('{"O": "heavy"}', "must be a finite number > 0, got 'heavy'"),
    ('{"O": 2,', "not valid JSON"),
    ('["O", 2]', "unknown label '[\"O\",'"),  # not an object: read as lines, then refused
    ("O\t2\t3\n", ":1: expected 'label<TAB>weight'"),
    ("# weights\nO\tlots\n", ":2: the weight of 'O' must be a finite number > 0, got 'lots'"),
])
def test_a_bad_file_is_one_line_naming_it(tmp_path, text, message):
    path = tmp_path / "weights.json"
    path.write_text(text)
    with pytest.raises(DataFormatError) as caught:
        read_class_weights(path, LABELS)
    assert message in str(caught.value)
    assert str(caught.value).startswith(str(path)) and "\n" not in str(caught.value)


def test_the_argument_type_takes_auto_none_or_an_existing_file(tmp_path):
    (tmp_path / "w.json").write_text("{}")
    assert [class_weights_spec(v) for v in ("auto", "none")] == ["auto", "none"]
    assert class_weights_spec(str(tmp_path / "w.json")) == str(tmp_path / "w.json")
    with pytest.raises(argparse.ArgumentTypeError, match="no such file"):
        class_weights_spec(str(tmp_path / "missing.json"))
    with pytest.raises(LstmNlpError, match="no such class weights file"):
        read_class_weights(tmp_path / "missing.json", LABELS)
