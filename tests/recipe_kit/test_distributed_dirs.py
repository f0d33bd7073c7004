"""Per-rank output folders: rank 0 writes to OUTPUT_DIR, other ranks to a private folder made on first use."""

from pathlib import Path

from lstm_nlp.recipe_kit.args import recipe_parser, trainer_config
from lstm_nlp.recipe_kit.distributed_dirs import local_output_dir


def test_rank_zero_writes_to_the_output_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "0")
    assert local_output_dir(tmp_path / "run") == tmp_path / "run" and (tmp_path / "run").is_dir()


def test_other_ranks_get_one_private_folder_made_on_first_use_not_at_parse_time(monkeypatch, tmp_path):
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "1")
    made = []
    monkeypatch.setattr("tempfile.mkdtemp", lambda **kw: made.append(kw) or str(tmp_path / "scratch"))
    args = recipe_parser("t", epochs=1, batch_size=1, lr=0.1, output_dir=str(tmp_path / "shared")).parse_args([])
    assert not made and args.output_dir == str(tmp_path / "shared")
    assert trainer_config(args, metric="accuracy").output_dir == str(tmp_path / "shared")  # every rank reads it
    first = local_output_dir(tmp_path / "shared")
    assert first == local_output_dir(tmp_path / "shared") == Path(tmp_path / "scratch") and len(made) == 1
