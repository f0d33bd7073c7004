"""Telling a path from a hub id, naming a file's format, and loading hub ids fast when offline."""

from __future__ import annotations

import socket
import time

import pytest

from lstm_nlp.data import textfiles
from lstm_nlp.data.text_classification import load_text_classification
from lstm_nlp.data.textfiles import is_hub_id, load_hub_dataset
from lstm_nlp.errors import DataFormatError


@pytest.mark.parametrize("source", ["stanfordnlp/imdb", "conll2003", "universal_dependencies:en_ewt", "a-b/c.v2"])
def test_hub_ids(source):
    assert is_hub_id(source)


@pytest.mark.parametrize("source", ["missing.tsv", "train.txt", "x/y.jsonl", "x/y.conllu.gz", "./imdb", "../imdb",
                                    "/data/imdb", "~/imdb", "a/b/c", "a\\b", "my file", "data.parquet", ""])
def test_paths(source):
    assert not is_hub_id(source)


def test_owner_that_is_a_local_folder_makes_it_a_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert is_hub_id("runs/imdb")
    (tmp_path / "runs").mkdir()
    assert not is_hub_id("runs/imdb")


def _refused_port() -> int:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        return server.getsockname()[1]  # closed on exit: connecting is refused at once


@pytest.fixture
def online_env(monkeypatch):
    """No offline variable set, so that the quick reachability check is what decides."""
    from datasets import config
    from huggingface_hub import constants

    for name in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(config, "HF_HUB_OFFLINE", False)
    for name in ("https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)


def test_unreachable_hub_fails_within_seconds_with_the_message(online_env, monkeypatch, tmp_path):
    """The real ``datasets.load_dataset``, an endpoint that refuses connections: no retries."""
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "ENDPOINT", f"http://127.0.0.1:{_refused_port()}")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    start = time.perf_counter()
    with pytest.raises(DataFormatError) as info:
        load_text_classification("stanfordnlp/imdb", cache_dir=tmp_path)
    assert time.perf_counter() - start < 5
    message = str(info.value)
    assert message.startswith("stanfordnlp/imdb: not a local file or folder, and loading it as a Hugging Face hub "
                              "dataset (split 'train') failed (")
    assert "the hub is not reachable: 127.0.0.1:" in message and "not in the local cache" in message
    assert message.endswith("offline, pass a local aclImdb folder or jsonl/csv/parquet file")
    assert constants.HF_HUB_OFFLINE is False  # offline mode is restored after the attempt


@pytest.mark.parametrize("variable", ["HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE"])
def test_offline_variables_skip_the_network_check(online_env, monkeypatch, variable):
    import datasets
    from huggingface_hub import constants

    monkeypatch.setenv(variable, "1")
    monkeypatch.setattr(textfiles, "hub_unreachable", lambda timeout=2.5: pytest.fail("checked the network"))
    seen = []

    def cached_only(path, name=None, split=None, cache_dir=None):
        seen.append(constants.HF_HUB_OFFLINE)
        raise ConnectionError("Couldn't reach the Hub (OfflineModeIsEnabled)")

    monkeypatch.setattr(datasets, "load_dataset", cached_only)
    with pytest.raises(DataFormatError, match=r"offline mode is on \(HF_HUB_OFFLINE\), and the dataset is not in "
                                              r"the local cache; offline, pass a local \.conllu file$"):
        load_hub_dataset("universal_dependencies:en_ewt", split="train", local_hint="a local .conllu file")
    assert seen == [True]  # loaded in offline mode: from the local cache only


def test_reachable_hub_loads_online_and_a_config_is_passed_by_name(online_env, monkeypatch):
    import datasets
    from huggingface_hub import constants

    monkeypatch.setattr(textfiles, "hub_unreachable", lambda timeout=2.5: None)
    calls = []

    def fake(path, name=None, split=None, cache_dir=None):
        calls.append((path, name, split, constants.HF_HUB_OFFLINE))
        return "dataset"

    monkeypatch.setattr(datasets, "load_dataset", fake)
    assert load_hub_dataset("universal_dependencies:en_ewt", split="dev", local_hint="x") == "dataset"
    assert calls == [("universal_dependencies", "en_ewt", "dev", False)]


def test_cached_datasets_still_load_when_the_hub_is_unreachable(online_env, monkeypatch):
    import datasets
    from huggingface_hub import constants

    monkeypatch.setattr(textfiles, "hub_unreachable", lambda timeout=2.5: "huggingface.co:443: timed out")
    monkeypatch.setattr(datasets, "load_dataset", lambda path, split, cache_dir=None: constants.HF_HUB_OFFLINE)
    assert load_hub_dataset("stanfordnlp/imdb", split="train", local_hint="x") is True  # read in offline mode
    assert constants.HF_HUB_OFFLINE is False
