"""The shared recipe options: training flags reach TrainerConfig; torchrun ranks > 0 write nowhere shared."""

import pytest

from lstm_nlp.errors import ConfigError
from lstm_nlp.recipe_args import recipe_parser, trainer_config


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


def test_defaults_are_backward_compatible_and_overridable():
    config = trainer_config(parser().parse_args([]), metric="accuracy")
    assert (config.optimizer, config.scheduler, config.grad_clip, config.patience, config.resume) == \
        ("adam", "none", 5.0, None, None)
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


def test_other_torchrun_ranks_get_a_private_output_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "1")
    args = parser().parse_args(["--output-dir", str(tmp_path / "shared")])
    assert args.main_output_dir == str(tmp_path / "shared") and args.output_dir != args.main_output_dir
    assert trainer_config(args, metric="accuracy").output_dir == str(tmp_path / "shared")
    monkeypatch.setenv("RANK", "0")
    args = parser().parse_args(["--output-dir", str(tmp_path / "shared")])
    assert args.output_dir == args.main_output_dir
