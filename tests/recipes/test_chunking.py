"""The chunking recipe end to end on the bundled CoNLL-2000-format sample (dev carved from train)."""

import json

import pytest

from lstm_nlp.data.conll import read_conll


@pytest.fixture(scope="module")
def chunking(load_recipe):
    return load_recipe("chunking")


def test_recipe_carves_a_seeded_dev_split_and_writes_chunk_scores(chunking, tmp_path, sample_dir):
    argv = ["--epochs", "4", "--lr", "5e-3", "--batch-size", "8", "--no-progress", "--device", "cpu",
            "--no-checkpoints"]
    metrics = chunking.main(["--output-dir", str(tmp_path / "a"), "--eval-train", *argv])
    assert metrics["dev"]["f1"] >= 0.8
    saved = json.loads((tmp_path / "a" / "metrics.json").read_text())
    assert set(saved) == {"train", "dev", "test"}
    assert all({"f1", "precision", "recall"} <= set(split) for split in saved.values())
    assert "NP" in (tmp_path / "a" / "report_dev.txt").read_text()
    # the dev split is the seeded 10% of train that datasets' train_test_split gives
    carved = read_conll(sample_dir / "chunking" / "train.txt").train_test_split(test_size=0.1, seed=0)
    assert len(carved["test"]) == 8
    chunks = sum(tag.startswith("B-") for tags in carved["test"]["tags"] for tag in tags)
    assert sum(v["support"] for v in metrics["dev"]["per_tag"].values()) == chunks


def test_a_given_test_file_is_used_without_train(chunking, sample_dir, tmp_path):
    mine = tmp_path / "my.txt"
    mine.write_text("Hi UH O\n\n")
    args = chunking.parse_args(["--test", str(mine)])  # the old recipe replaced it by the sample's test file
    assert (args.train, args.dev, args.test) == (str(sample_dir / "chunking" / "train.txt"), None, str(mine))
