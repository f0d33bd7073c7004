"""seqeval entity scores (strict IOB2), token scores and classifier scores on hand-checked examples."""

import gzip
import re
from pathlib import Path

import pytest

from lstm_nlp.data.conll import read_conll
from lstm_nlp.errors import DataFormatError
from lstm_nlp.metrics import classification_metrics, tagging_metrics, token_accuracy
from lstm_nlp.tags import to_spans

GOLD = [["B-PER", "I-PER", "O", "B-LOC"], ["B-ORG", "I-ORG", "I-ORG", "O", "B-PER"]]
PRED = [["B-PER", "I-PER", "O", "B-ORG"], ["B-ORG", "I-ORG", "O", "O", "I-PER"]]
# Gold entities: PER(0:2) LOC(3) | ORG(0:3) PER(4)                       -> 4
# Predicted (strict IOB2; the stray I-PER is no entity): PER(0:2) ORG(3) | ORG(0:2) -> 3
# Correct: PER(0:2) only -> precision 1/3, recall 1/4, F1 = 2/7.


def test_iob2_strict_entity_scores_by_hand():
    metrics = tagging_metrics(GOLD, PRED, scheme="iob2")
    assert metrics["precision"] == pytest.approx(1 / 3)
    assert metrics["recall"] == pytest.approx(1 / 4)
    assert metrics["f1"] == pytest.approx(2 / 7)
    assert metrics["per_tag"]["PER"] == {"precision": 1.0, "recall": 0.5, "f1": pytest.approx(2 / 3), "support": 2}
    assert metrics["per_tag"]["ORG"]["precision"] == 0.0 and metrics["per_tag"]["ORG"]["support"] == 1
    assert metrics["per_tag"]["LOC"]["recall"] == 0.0
    assert metrics["accuracy"] == pytest.approx(6 / 9)
    assert "PER" in metrics["report"] and "micro avg" in metrics["report"]


@pytest.mark.parametrize("scheme", ["none", "token"])  # "token": the name older bundles store
def test_none_scheme_scores_each_token_as_its_tag(scheme):
    gold = [["DET", "NOUN", "VERB"], ["PRON", "VERB"]]
    pred = [["DET", "VERB", "VERB"], ["PRON", "VERB"]]
    metrics = tagging_metrics(gold, pred, scheme=scheme)
    assert metrics["accuracy"] == pytest.approx(4 / 5) == token_accuracy(gold, pred)
    # micro precision/recall/F1 over tokens would repeat the accuracy: not reported
    assert not {"precision", "recall", "f1"} & set(metrics)
    assert metrics["macro_f1"] == pytest.approx((1 + 0 + 1 + 0.8) / 4)
    assert metrics["per_tag"]["VERB"]["precision"] == pytest.approx(2 / 3)
    assert metrics["per_tag"]["NOUN"]["recall"] == 0.0
    assert metrics["confusion"]["labels"] == ["DET", "NOUN", "PRON", "VERB"]
    assert metrics["confusion"]["matrix"][1] == [0, 0, 0, 1]  # gold NOUN predicted VERB


def test_none_scheme_report_by_hand_with_a_tag_only_predicted():
    gold = [["DET", "NOUN", "NOUN", "VERB"]]
    pred = [["DET", "NOUN", "ADJ", "VERB"]]  # ADJ: predicted once, never gold
    metrics = tagging_metrics(gold, pred)
    per_tag = metrics["per_tag"]
    assert list(per_tag) == ["ADJ", "DET", "NOUN", "VERB"]
    assert per_tag["ADJ"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}
    assert per_tag["NOUN"] == {"precision": 1.0, "recall": 0.5, "f1": pytest.approx(2 / 3), "support": 2}
    assert metrics["macro_f1"] == pytest.approx((0 + 1 + 2 / 3 + 1) / 4)
    lines = {line.split()[0]: line.split()[1:] for line in metrics["report"].splitlines() if line.strip()}
    assert lines["NOUN"] == ["1.0000", "0.5000", "0.6667", "2"]
    assert lines["accuracy"] == ["0.7500", "4"]
    # weighted by support: (DET 1 x 1 + NOUN 2 x 2/3 + VERB 1 x 1) / 4
    assert metrics["report"].splitlines()[-1].split()[-2:] == [f"{(1 + 4 / 3 + 1) / 4:.4f}", "4"]


def test_none_scheme_does_not_import_seqeval(repo_root):
    import subprocess
    import sys

    code = ("import sys; from lstm_nlp.metrics import tagging_metrics; tagging_metrics([['DET']], [['DET']]); "
            "print('seqeval' in sys.modules, 'sklearn' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=repo_root, check=True)
    assert done.stdout.split() == ["False", "False"]


def test_span_scores_equal_seqevals_own_functions_on_noisy_tags():
    """The micro scores come from seqeval's report; they must be what its precision/recall/f1 functions say."""
    import random

    from seqeval.metrics import f1_score, precision_score, recall_score
    from seqeval.scheme import IOB2

    tags = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-ORG", "I-ORG"]
    rng = random.Random(0)
    gold = [[rng.choice(tags) for _ in range(rng.randint(1, 12))] for _ in range(300)]
    pred = [[t if rng.random() < 0.8 else rng.choice(tags) for t in sentence] for sentence in gold]
    metrics = tagging_metrics(gold, pred, scheme="iob2")
    strict = {"mode": "strict", "scheme": IOB2, "zero_division": 0}
    assert metrics["precision"] == precision_score(gold, pred, **strict)
    assert metrics["recall"] == recall_score(gold, pred, **strict)
    assert metrics["f1"] == f1_score(gold, pred, **strict)
    assert "micro avg" in metrics["report"] and "LOC" in metrics["report"]


def test_misaligned_inputs_are_rejected():
    with pytest.raises(ValueError, match="sentence 0"):
        tagging_metrics([["O"]], [["O", "O"]], scheme="iob2")
    with pytest.raises(ValueError, match="scheme"):
        tagging_metrics([["O"]], [["O"]], scheme="bilu")


def test_span_scores_name_a_tag_that_is_not_iob2():
    """A POS file scored by a NER model used to end in seqeval's bare ``KeyError: 'P'``."""
    with pytest.raises(DataFormatError, match="gold tag 'PROPN' is not an IOB2 tag"):
        tagging_metrics([["PROPN", "O"]], [["B-PER", "O"]], scheme="iob2")


def test_classification_metrics_binary_and_macro():
    gold = ["pos", "pos", "neg", "neg", "neg"]
    predicted = ["pos", "neg", "neg", "pos", "neg"]
    binary = classification_metrics(gold, predicted, labels=["neg", "pos"], positive_label="pos")
    assert binary["accuracy"] == pytest.approx(0.6)
    assert (binary["precision"], binary["recall"], binary["f1"]) == pytest.approx((0.5, 0.5, 0.5))
    macro = classification_metrics(gold, predicted, labels=["neg", "pos"])
    assert macro["precision"] == pytest.approx((2 / 3 + 0.5) / 2)
    assert macro["confusion"]["matrix"] == [[2, 1], [1, 1]]
    assert "positive class 'pos'" in binary["report"] and "macro" in macro["report"]


def test_span_scores_without_any_span_report_zero_instead_of_crashing():
    """seqeval's report raised ``max() arg is an empty sequence``, after a whole training run."""
    metrics = tagging_metrics([["O", "O"]], [["O", "O"]], scheme="iob2")
    assert (metrics["f1"], metrics["accuracy"], metrics["per_tag"]) == (0.0, 1.0, {})
    assert "no spans" in metrics["report"]


def test_conlleval_reading_counts_a_stray_inside_tag_as_a_span():
    # PRED sentence 2: the stray I-PER is no span for seqeval (strict), a PER span for conlleval, which also
    # reads "B-ORG I-ORG O" as ORG(0:2): 4 predicted spans, PER(0:2) and PER(4) correct -> P 2/4, R 2/4.
    metrics = tagging_metrics(GOLD, PRED, scheme="iob2")
    assert metrics["f1"] == pytest.approx(2 / 7)
    assert (metrics["precision_conlleval"], metrics["recall_conlleval"]) == pytest.approx((2 / 4, 2 / 4))
    assert "as conlleval reads them" in metrics["report"]
    valid = tagging_metrics(GOLD, GOLD, scheme="iob2")
    assert valid["f1"] == valid["f1_conlleval"] == 1.0  # well-formed sequences: both readings agree


# --- parity with the CoNLL shared tasks' conlleval script (version 2004-01-26) ------------------------------------
# The figures in tests/fixtures/conlleval/*.conlleval.txt were printed by the original Perl script (see the
# README there); the script itself is not shipped.

FIXTURES = Path(__file__).parent / "fixtures" / "conlleval"


def _conlleval_figures(name: str) -> dict:
    """The overall counts and percentages that conlleval printed for a fixture."""
    head, scores = (FIXTURES / f"{name}.conlleval.txt").read_text().splitlines()[:2]
    counts = re.match(r"processed (\d+) tokens with (\d+) phrases; found: (\d+) phrases; correct: (\d+)\.", head)
    percent = dict(re.findall(r"(accuracy|precision|recall|FB1):\s+([\d.]+)", scores))
    return {"gold": int(counts[2]), "found": int(counts[3]), "correct": int(counts[4]),
            **{k: float(v) for k, v in percent.items()}}


def _sentences(lines, column: int) -> list[list[str]]:
    sentences, current = [], []
    for line in lines:
        if line.strip():
            current.append(line.split()[column])
        elif current:
            sentences.append(current)
            current = []
    return sentences + ([current] if current else [])


def _assert_conlleval_parity(gold, predicted, name: str, *, accuracy: bool = True) -> None:
    expected = _conlleval_figures(name)
    metrics = tagging_metrics(gold, predicted, scheme="iob2")
    found = sum(len(to_spans(tags, "iob2")) for tags in predicted)
    assert (sum(len(to_spans(tags, "iob2")) for tags in gold), found) == (expected["gold"], expected["found"])
    assert round(100 * metrics["precision_conlleval"], 2) == expected["precision"]
    assert round(100 * metrics["recall_conlleval"], 2) == expected["recall"]
    assert round(100 * metrics["f1_conlleval"], 2) == expected["FB1"]
    if accuracy:
        assert round(100 * metrics["accuracy"], 2) == expected["accuracy"]
    assert metrics["f1"] != metrics["f1_conlleval"]  # invalid sequences are there: the strict reading differs


def test_conlleval_reading_equals_the_original_script_on_random_invalid_sequences():
    """300 sentences, a quarter of the predicted tags replaced at random: 1,773 predicted spans for 1,009 gold."""
    lines = (FIXTURES / "random_iob2.txt").read_text().splitlines()
    _assert_conlleval_parity(_sentences(lines, 1), _sentences(lines, 2), "random_iob2")


@pytest.mark.parametrize("name", ["conll2000_dev_softmax", "conll2003_dev_softmax"])
def test_conlleval_reading_equals_the_original_script_on_softmax_model_predictions(name, real_data):
    """Predictions of a 2-epoch softmax-head tagger (unconstrained, so invalid sequences occur) on real dev data."""
    if name.startswith("conll2000"):  # the chunking recipe's dev split, carved from train.txt as it carves it
        train = read_conll(real_data / "conll2000" / "train.txt", scheme="iob2")
        gold = train.train_test_split(test_size=0.1, seed=0)["test"]["tags"]
    else:
        gold = read_conll(real_data / "conll2003" / "dev.txt", scheme="iob2")["tags"]
    with gzip.open(FIXTURES / f"{name}.pred.gz", "rt") as file:
        predicted = _sentences(file.read().splitlines(), 0)
    assert [len(tags) for tags in predicted] == [len(tags) for tags in gold]
    # conlleval counts CoNLL-2003's -DOCSTART- lines as tokens (O, O), which the reader drops: the token accuracy
    # differs there, the spans do not
    _assert_conlleval_parity(gold, predicted, name, accuracy=name.startswith("conll2000"))
