"""The shared recipe options: training flags reach TrainerConfig, defaults come from it, data paths are checked."""

import argparse
import dataclasses

import pytest

from lstm_nlp.errors import ConfigError
from lstm_nlp.recipe_kit.args import data_paths, recipe_parser, trainer_config
from lstm_nlp.training import TrainerConfig


def parser(**defaults):
    return recipe_parser("test", epochs=4, batch_size=8, lr=0.1, output_dir="runs/x", **defaults)


def test_training_options_reach_the_trainer_config():
    args = parser().parse_args(["--optimizer", "sgd", "--weight-decay", "0.01", "--grad-clip", "0", "--grad-accum", "2",
                                "--scheduler", "plateau", "--lr-patience", "3", "--patience", "4", "--amp",
                                "--checkpoint-every", "50", "--keep-checkpoints", "3", "--resume", "--tensorboard"])
    config = trainer_config(args, metric="f1")
    assert (config.optimizer, config.weight_decay, config.grad_clip, config.grad_accum) == ("sgd", 0.01, None, 2)
    assert (config.scheduler, config.lr_patience, config.patience, config.precision) == ("plateau", 3, 4, "amp")
    assert (config.checkpoint_every, config.keep_checkpoints, config.resume) == (50, 3, "auto")
    assert config.tensorboard
    assert (config.metric, config.epochs, config.lr, config.output_dir) == ("f1", 4, 0.1, "runs/x")


def test_the_training_defaults_are_the_trainer_configs_own():
    config = trainer_config(parser().parse_args([]), metric="accuracy")
    shared = {"optimizer", "weight_decay", "momentum", "grad_clip", "grad_accum", "scheduler", "warmup_steps",
              "lr_factor", "lr_patience", "lr_step_size", "min_lr", "patience", "precision", "checkpoint_every",
              "keep_checkpoints", "save_checkpoints", "resume", "tensorboard", "device", "progress"}
    defaults = TrainerConfig()
    assert {f: getattr(config, f) for f in shared} == {f: getattr(defaults, f) for f in shared}
    assert {f.name for f in dataclasses.fields(TrainerConfig)} >= shared


def test_recipe_defaults_and_overrides():
    recipe = parser(optimizer="sgd", scheduler="plateau").parse_args(["--resume", "ckpt.pt"])
    config = trainer_config(recipe, metric="accuracy", mode="min", lr_factor=0.25)
    assert (config.optimizer, config.scheduler, config.resume, config.mode, config.lr_factor) == \
        ("sgd", "plateau", "ckpt.pt", "min", 0.25)
    with pytest.raises(ConfigError, match="unknown default"):
        parser(optimiser="sgd")


def test_a_recipe_may_redefine_a_shared_option():
    p = parser()
    p.add_argument("--patience", type=int, default=7, help="the recipe's own meaning")
    assert trainer_config(p.parse_args([]), metric="accuracy").patience == 7


def test_a_parser_without_data_options_has_none_of_them():
    p = recipe_parser("test", epochs=1, batch_size=1, lr=0.1, output_dir="x", data=False)
    flags = {flag for action in p._actions for flag in action.option_strings}
    assert "--epochs" in flags and not flags & {"--train", "--dev", "--test", "--eval-train", "--no-eval-train"}


def test_eval_train_is_off_by_default_and_says_why(capsys):
    assert parser().parse_args([]).eval_train is False
    assert parser().parse_args(["--eval-train"]).eval_train is True
    with pytest.raises(SystemExit):
        parser().parse_args(["--help"])
    assert "default: off" in " ".join(capsys.readouterr().out.split())


@pytest.fixture
def sample(tmp_path):
    for split in ("train", "dev", "test"):
        (tmp_path / f"{split}.conllu").write_text("x\n")
    return tmp_path


def paths(args: argparse.Namespace) -> tuple:
    return args.train, args.dev, args.test


def test_the_sample_fills_only_the_splits_not_given(sample, tmp_path):
    mine = tmp_path / "my.conllu"
    mine.write_text("x\n")
    s = lambda split: str(sample / f"{split}.conllu")  # noqa: E731
    assert paths(data_paths(parser().parse_args([]), sample, suffix=".conllu")) == (s("train"), s("dev"), s("test"))
    args = data_paths(parser().parse_args(["--test", str(mine)]), sample, suffix=".conllu")
    assert paths(args) == (s("train"), s("dev"), str(mine)) and args.sample_splits == ["train", "dev"]
    args = data_paths(parser().parse_args(["--train", str(mine)]), sample, suffix=".conllu")
    assert paths(args) == (str(mine), None, None) and args.sample_splits == []


@pytest.mark.parametrize("flag", ["--train", "--dev", "--test"])
def test_a_missing_file_is_an_error_naming_the_flag_and_the_path(sample, flag):
    with pytest.raises(ConfigError, match=f"^{flag}: no such file or folder: nope.conllu$"):
        data_paths(parser().parse_args([flag, "nope.conllu"]), sample, suffix=".conllu", hub_ids=True)


@pytest.mark.parametrize("value,hub_ids,ok", [
    ("stanfordnlp/imdb", True, True), ("imdb", True, True), ("universal_dependencies:en_ewt", True, True),
    ("stanfordnlp/imdb", False, False), ("data/nope.jsonl", True, False), ("./nope", True, False),
    ("a/b/c", True, False),
])
def test_hub_ids_pass_where_the_recipe_reads_them(sample, value, hub_ids, ok):
    args = parser().parse_args(["--train", value])
    if ok:
        assert data_paths(args, sample, suffix=".conllu", hub_ids=hub_ids).train == value
    else:
        with pytest.raises(ConfigError, match="--train: no such file"):
            data_paths(args, sample, suffix=".conllu", hub_ids=hub_ids)


def test_threads_option_sets_torch_threads_before_any_work(tmp_path, capsys):
    import torch

    before = torch.get_num_threads()
    parser = recipe_parser("x", epochs=1, batch_size=2, lr=0.1, output_dir=str(tmp_path))
    try:
        parser.parse_args([])  # OMP_NUM_THREADS (the tests set it to 1) wins over the free-core default
        assert torch.get_num_threads() == before
        assert parser.parse_args(["--threads", "2"]).threads == 2 and torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
    with pytest.raises(SystemExit):
        parser.parse_args(["--threads", "0"])
    assert "--threads" in capsys.readouterr().err


def test_the_tagger_options_build_the_tagger_config_with_the_recipe_defaults():
    from lstm_nlp.recipe_kit.tagging import add_tagger_options, tagger_config

    parser = recipe_parser("t", epochs=1, batch_size=2, lr=0.1, output_dir="out")
    add_tagger_options(parser, min_freq=1, hidden_size=200, char_encoder="cnn")
    config = tagger_config(parser.parse_args(["--char-dim", "7"]), vocab_size=10, labels=["A", "B", "O"],
                           char_vocab_size=5, train_tags=[["A", "O", "O"]])
    assert (config.hidden_size, config.char_encoder, config.char_embedding_dim, config.num_layers) == (200, "cnn", 7, 2)
    assert config.num_labels == 3 and config.class_weights is None  # --class-weights none by default
    weighted = tagger_config(parser.parse_args(["--class-weights", "auto"]), vocab_size=10, labels=["A", "B", "O"],
                             char_vocab_size=5, train_tags=[["A", "O", "O", "O"], ["B", "O", "O", "O"]])
    assert weighted.class_weights[0] == weighted.class_weights[1] > 1 > weighted.class_weights[2]
    with pytest.raises(ConfigError, match="unknown default"):
        add_tagger_options(recipe_parser("t", epochs=1, batch_size=2, lr=0.1, output_dir="out"), min_freq=1, size=3)


def test_encoder_choices_come_from_the_registry_in_every_recipe_that_offers_it(monkeypatch):
    from lstm_nlp.modules import encoder as encoders
    from lstm_nlp.recipe_kit.args import add_encoder_option
    from lstm_nlp.recipe_kit.tagging import add_tagger_options, tagger_config

    monkeypatch.setitem(encoders.ENCODERS, "tiny", encoders.LSTMEncoder)  # registered after the imports
    tagging = recipe_parser("t", epochs=1, batch_size=2, lr=0.1, output_dir="out")
    add_tagger_options(tagging, min_freq=1)
    other = recipe_parser("t", epochs=1, batch_size=2, lr=0.1, output_dir="out")
    add_encoder_option(other.add_argument_group("model"))
    for parser in (tagging, other):
        choices = next(a.choices for a in parser._actions if a.dest == "encoder")
        assert choices == sorted(encoders.ENCODERS) and "tiny" in choices
        assert parser.parse_args([]).encoder == "lstm"
    config = tagger_config(tagging.parse_args(["--encoder", "tiny"]), vocab_size=10, labels=["O", "B-X", "I-X"],
                           char_vocab_size=5, train_tags=[["O", "B-X", "I-X"]])
    assert config.encoder == "tiny"
