"""Shared fixtures: the repository root, the recipes as modules, the bundled samples, real corpora.

Real-data tests read $LSTM_NLP_DATA and are skipped when it is unset.
"""

from __future__ import annotations

import functools
import importlib.util
import os
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

# Tests use tiny models: one thread each is plenty, and on a busy machine a second OpenMP thread
# waits at every barrier for a core another process holds (10x+ slower). Children inherit it.
os.environ.setdefault("OMP_NUM_THREADS", "1")

import pytest  # noqa: E402
import torch  # noqa: E402
from hypothesis import settings  # noqa: E402

# CI runs the property tests on a fixed example sequence (reproducible results); locally they explore.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

REPO_ROOT = Path(__file__).resolve().parents[1]  # the one place the tests compute it: use the repo_root fixture


@functools.cache
def _import_recipe(name: str) -> ModuleType:
    path = REPO_ROOT / "recipes" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"recipe_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def real_data_dir() -> Path | None:
    value = os.environ.get("LSTM_NLP_DATA")
    return Path(value) if value and Path(value).is_dir() else None


requires_real_data = pytest.mark.skipif(real_data_dir() is None, reason="LSTM_NLP_DATA is not set")


@pytest.fixture(autouse=True)
def _seed_and_threads():
    torch.manual_seed(0)
    yield


@pytest.fixture
def real_data() -> Path:
    """The real-corpora folder ($LSTM_NLP_DATA); the test is skipped when it is unset."""
    root = real_data_dir()
    if root is None:
        pytest.skip("LSTM_NLP_DATA is not set")
    return root


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository checkout the tests run from."""
    return REPO_ROOT


@pytest.fixture(scope="session")
def sample_dir() -> Path:
    """The bundled samples (``data/`` of the checkout)."""
    return REPO_ROOT / "data"


@pytest.fixture(scope="session")
def load_recipe() -> Callable[[str], ModuleType]:
    """``load_recipe("pos_tagger")``: ``recipes/pos_tagger.py`` imported as a module (once per session)."""
    return _import_recipe


#: Two sentences and their IOB2 tags, what ``tiny_ner_tagger`` is fitted to.
TINY_NER = [("Maria Lopez visited Paris .", "B-PER I-PER O B-LOC O"), ("Acme sold it", "B-ORG O O")]


@pytest.fixture
def tiny_ner_tagger() -> Callable[..., object]:
    """``tiny_ner_tagger(head="crf")``: a tiny IOB2 tagger fitted to two sentences (it tags them right and is
    unsure of words it never saw)."""
    from datasets import Dataset

    from lstm_nlp.data import Vocab
    from lstm_nlp.models import SequenceTagger, TaggerConfig
    from lstm_nlp.modules.crf import allowed_transitions
    from lstm_nlp.pipelines import TaggingPipeline

    def build(head: str = "crf", steps: int = 40):
        data = Dataset.from_dict({"tokens": [text.split() for text, _ in TINY_NER],
                                  "tags": [tags.split() for _, tags in TINY_NER]})
        torch.manual_seed(0)
        words, labels = Vocab.build(data["tokens"], lower=True), Vocab.build_labels(data["tags"])
        config = TaggerConfig(vocab_size=len(words), num_labels=len(labels), embedding_dim=8, hidden_size=8,
                              num_layers=1, head=head)
        model = SequenceTagger(config, constraints=allowed_transitions(labels.itos) if head == "crf" else None)
        pipeline = TaggingPipeline(model, words, labels, scheme="iob2", tag_column=3)
        optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
        batch = next(iter(pipeline.loader(pipeline.encode(data), batch_size=2)))
        model.train()
        for _ in range(steps):
            optimizer.zero_grad()
            model(**{k: v for k, v in batch.items() if k not in ("lengths", "index")}).loss.backward()
            optimizer.step()
        return pipeline

    return build


@pytest.fixture
def tmpfs(tmp_path) -> Callable[[str], Path]:
    """``tmpfs(options)`` mounts a tmpfs with mount ``options`` (``"size=32k"``, ``"ro,size=16k"``) under
    ``tmp_path`` and returns it, unmounted after the test; skips where mounting needs root."""
    import subprocess

    mounts: list[Path] = []

    def mount(options: str) -> Path:
        folder = tmp_path / f"tmpfs{len(mounts)}"
        folder.mkdir()
        if subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)],
                          capture_output=True).returncode != 0:
            pytest.skip(f"cannot mount a tmpfs ({options}) here")
        mounts.append(folder)
        return folder

    yield mount
    for folder in mounts:
        subprocess.run(["umount", str(folder)], check=False)
