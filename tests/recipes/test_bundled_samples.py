"""The bundled demo samples: no dev or test sentence (or review) is also a training one."""

import json

import pytest


def _conllu_sentences(path):
    blocks = path.read_text(encoding="utf-8").strip().split("\n\n")
    return [" ".join(line.split("\t")[1] for line in block.splitlines() if not line.startswith("#"))
            for block in blocks]


def _column_sentences(path):
    blocks = path.read_text(encoding="utf-8").strip().split("\n\n")
    return [" ".join(line.split()[0] for line in block.splitlines()) for block in blocks
            if not block.startswith("-DOCSTART-")]


def _reviews(path):
    return [json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.mark.parametrize("task,suffix,read", [
    ("pos", ".conllu", _conllu_sentences), ("ner", ".txt", _column_sentences),
    ("chunking", ".txt", _column_sentences), ("imdb", ".jsonl", _reviews),
])
def test_held_out_splits_do_not_repeat_training_sentences(sample_dir, task, suffix, read):
    train = read(sample_dir / task / f"train{suffix}")
    assert len(set(train)) == len(train)
    held_out = [split for split in ("dev", "test") if (sample_dir / task / f"{split}{suffix}").exists()]
    assert held_out
    for split in held_out:
        sentences = read(sample_dir / task / f"{split}{suffix}")
        assert sentences and not set(sentences) & set(train), split


def test_the_samples_stay_small(sample_dir):
    lines = sum(len(path.read_text(encoding="utf-8").splitlines()) for path in sample_dir.glob("*/*.*")
                if path.suffix in (".conllu", ".txt", ".jsonl"))
    assert lines < 10_000
