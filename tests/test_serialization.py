import json

import pytest
import torch

from lstm_nlp.data import Vocab
from lstm_nlp.errors import BundleError
from lstm_nlp.models import SequenceTagger, TaggerConfig
from lstm_nlp.serialization import WEIGHTS_NAME, read_bundle, write_bundle


def _model():
    return SequenceTagger(TaggerConfig(vocab_size=12, num_labels=4, embedding_dim=8, hidden_size=6, num_layers=1))


def test_save_load_gives_identical_logits(tmp_path):
    model = _model().eval()
    model.save_pretrained(tmp_path / "m")
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == ["config.json", WEIGHTS_NAME]
    loaded = SequenceTagger.from_pretrained(tmp_path / "m")
    ids = torch.randint(2, 12, (3, 5))
    mask = torch.ones(3, 5, dtype=torch.bool)
    assert torch.equal(model(ids, mask=mask).logits, loaded(ids, mask=mask).logits)


def test_weights_that_disagree_with_config_are_refused(tmp_path):
    _model().save_pretrained(tmp_path / "m")
    config_path = tmp_path / "m" / "config.json"
    header = json.loads(config_path.read_text())
    header["config"]["vocab_size"] = 99
    config_path.write_text(json.dumps(header))
    with pytest.raises(BundleError, match=r"weight 'embedding.embedding.weight' has shape \(12, 8\)"):
        SequenceTagger.from_pretrained(tmp_path / "m")


def test_newer_format_version_is_refused(tmp_path):
    _model().save_pretrained(tmp_path / "m")
    config_path = tmp_path / "m" / "config.json"
    header = json.loads(config_path.read_text())
    header["format_version"] = 999
    config_path.write_text(json.dumps(header))
    with pytest.raises(BundleError, match="format version 999"):
        read_bundle(tmp_path / "m")


def test_corrupt_weights_and_missing_bundle(tmp_path):
    _model().save_pretrained(tmp_path / "m")
    (tmp_path / "m" / WEIGHTS_NAME).write_bytes(b"\x80\x04garbage")
    with pytest.raises(BundleError, match="not a readable safetensors file"):
        read_bundle(tmp_path / "m")
    with pytest.raises(BundleError, match="not a directory"):
        read_bundle(tmp_path / "nothing")


def test_failed_write_leaves_previous_bundle_intact(tmp_path):
    model = _model()
    vocab = Vocab.build([["a"]])
    write_bundle(tmp_path / "m", model_type="sequence_tagger", config={"x": 1}, state_dict=model.state_dict(),
                 vocabs={"words": vocab})

    def explode(path):
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_bundle(tmp_path / "m", model_type="sequence_tagger", config={"x": 2}, state_dict=model.state_dict(),
                     extra_files={"boom.bin": explode})
    bundle = read_bundle(tmp_path / "m")
    assert bundle.config == {"x": 1} and bundle.vocabs["words"] == vocab
    assert [p.name for p in tmp_path.iterdir()] == ["m"]  # no staging leftovers


def test_save_pretrained_rejects_a_file_path(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(BundleError, match="needs a directory"):
        _model().save_pretrained(tmp_path / "file")


def test_bundles_are_written_with_the_umask_modes_not_temp_file_modes(tmp_path):
    import os
    import stat

    previous = os.umask(0o022)
    try:
        _model().save_pretrained(tmp_path / "m")
        Vocab.build([["a"]]).save(tmp_path / "m" / "extra.vocab.json")
        _model().save_pretrained(tmp_path / "m")  # a second save swaps a new directory in
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "m").stat().st_mode) == 0o755
    for file in (tmp_path / "m").iterdir():
        assert stat.S_IMODE(file.stat().st_mode) == 0o644, file


def test_loading_a_bundle_does_not_import_the_compiler(tmp_path):
    """The meta build skips random init: on ``meta`` it would import ``torch._dynamo`` (~1.3 s of start-up)."""
    import subprocess
    import sys

    from lstm_nlp.models import ClassifierConfig, Forecaster, ForecasterConfig, TextClassifier

    SequenceTagger(TaggerConfig(vocab_size=12, num_labels=4, embedding_dim=8, hidden_size=6, char_encoder="lstm",
                                char_vocab_size=10, head="crf")).save_pretrained(tmp_path / "tagger")
    TextClassifier(ClassifierConfig(vocab_size=12, num_labels=2, embedding_dim=8,
                                    hidden_size=6)).save_pretrained(tmp_path / "classifier")
    Forecaster(ForecasterConfig(window=8, horizon=2, hidden_size=6)).save_pretrained(tmp_path / "forecaster")
    script = (
        "import sys\n"
        "from lstm_nlp.models import Forecaster, SequenceTagger, TextClassifier\n"
        f"SequenceTagger.from_pretrained({str(tmp_path / 'tagger')!r})\n"
        f"TextClassifier.from_pretrained({str(tmp_path / 'classifier')!r})\n"
        f"Forecaster.from_pretrained({str(tmp_path / 'forecaster')!r})\n"
        "print('torch._dynamo' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


@pytest.mark.parametrize("failure", [OSError(28, "No space left on device"),
                                     OSError(122, "Disk quota exceeded"),
                                     RuntimeError("failed to write: No space left on device (os error 28)")])
def test_a_full_disk_while_a_bundle_is_written_is_one_line_and_keeps_the_previous_bundle(tmp_path, monkeypatch,
                                                                                          failure):
    import lstm_nlp.serialization as serialization
    from lstm_nlp.errors import WriteError
    from lstm_nlp.models import SequenceTagger, TaggerConfig

    model = SequenceTagger(TaggerConfig(vocab_size=6, num_labels=3, embedding_dim=4, hidden_size=3))
    model.save_pretrained(tmp_path / "bundle")
    before = {p.name: p.read_bytes() for p in (tmp_path / "bundle").iterdir()}

    def full_disk(*args, **kwargs):
        raise failure

    monkeypatch.setattr(serialization, "save_file", full_disk)
    if isinstance(failure, RuntimeError):  # a writer's own exception type, not an OSError
        monkeypatch.setattr(serialization, "SafetensorError", RuntimeError)
    with pytest.raises(WriteError) as info:
        model.save_pretrained(tmp_path / "bundle")
    assert str(info.value) == f"no space left on device ({tmp_path / 'bundle'})"
    assert {p.name: p.read_bytes() for p in (tmp_path / "bundle").iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bundle"]  # no staging folder left behind
    SequenceTagger.from_pretrained(tmp_path / "bundle")


def test_a_real_full_tmpfs_keeps_the_previous_bundle(tmpfs):
    from lstm_nlp.errors import WriteError

    mount = tmpfs("size=200k")
    SequenceTagger(TaggerConfig(vocab_size=6, num_labels=3, embedding_dim=4, hidden_size=3)).save_pretrained(
        mount / "bundle")
    big = SequenceTagger(TaggerConfig(vocab_size=3000, num_labels=3, embedding_dim=50, hidden_size=30))
    with pytest.raises(WriteError, match=rf"^no space left on device \({mount / 'bundle'}\)$"):
        big.save_pretrained(mount / "bundle")
    assert sorted(p.name for p in mount.iterdir()) == ["bundle"]
    assert SequenceTagger.from_pretrained(mount / "bundle").config.vocab_size == 6
