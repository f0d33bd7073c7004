"""Raw, unlabelled text as a stream: files, folders of them and hub ids, read lazily and tokenized on the fly.

Pretraining corpora are larger than memory, so nothing here holds more than one reading batch:
``.jsonl`` and ``.txt`` files (and ``.gz``) are read a line at a time; ``.json``, csv and parquet
files and hub ids go through ``datasets.load_dataset(..., streaming=True)``; the texts come out one
by one. Under ``torchrun`` each rank keeps every
``world_size``-th text (a stride, the same rule on every rank, so the shards are disjoint and
together cover the corpus).

Typical use::

    corpus = TextCorpus(["imdb/unsup.jsonl", "imdb/train.jsonl"])
    for tokens in corpus.tokens(TextTokenizer()):   # list[str] per text
        ...
"""

from __future__ import annotations

import gzip
import itertools
import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from lstm_nlp.data.textfiles import count_text_lines, is_hub_id
from lstm_nlp.data.tokenizers import TextTokenizer
from lstm_nlp.errors import ConfigError, DataFormatError

#: File endings read as corpora, and the ``datasets`` builder that reads each (``.gz`` is looked through).
CORPUS_FORMATS = {".jsonl": "json", ".json": "json", ".csv": "csv", ".parquet": "parquet", ".txt": "text"}


def corpus_files(source: str | os.PathLike) -> list[Path]:
    """The corpus files of ``source``: the file itself, or a folder's supported files (recursively, sorted).

    Raises:
        DataFormatError: a missing path, an unsupported suffix, or a folder without corpus files.
    """
    path = Path(source).expanduser()
    if not path.exists():
        raise DataFormatError("file not found (a corpus is a .jsonl/.json/.csv/.parquet/.txt file, a folder of "
                              "them, or a Hugging Face hub id)", path)
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and _format(p) is not None)
        if not files:
            raise DataFormatError(f"no corpus files in this folder (looked for {', '.join(CORPUS_FORMATS)}, "
                                  "optionally .gz)", path)
        return files
    if _format(path) is None:
        raise DataFormatError(f"unsupported corpus file type {''.join(path.suffixes) or '(no suffix)'!r}; use "
                              f"{', '.join(CORPUS_FORMATS)} (optionally .gz)", path)
    return [path]


def _lines(file: Path) -> Iterator[str]:
    """The lines of a UTF-8 text file (``.gz`` ok), one at a time, without their ``\n`` / ``\r\n``.

    Reading a line at a time (not ``datasets``' Arrow blocks) keeps memory to one line: the
    pretraining benchmarks' peak memory then does not depend on how a reader sizes its blocks.
    """
    opener = gzip.open if file.suffix.lower() == ".gz" else open
    try:
        with opener(file, "rt", encoding="utf-8-sig", newline="\n") as handle:  # split at \n only
            for line in handle:
                yield line.removesuffix("\n").removesuffix("\r")
    except UnicodeDecodeError:
        count_text_lines(file)  # raises naming the line and the byte, as every reader does
        raise DataFormatError("the file is not UTF-8 text", file) from None
    except (OSError, EOFError) as err:  # a broken .gz
        raise DataFormatError(f"cannot read it as a corpus ({type(err).__name__}: {err})", file) from None


def _is_json_lines(file: Path) -> bool:
    suffixes = [s.lower() for s in file.suffixes]
    return ".jsonl" in suffixes[-2:]


def _json_records(file: Path) -> Iterator[dict]:
    """The JSON object of each non-blank line of a JSON-lines file."""
    for number, line in enumerate(_lines(file), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except (ValueError, RecursionError) as err:  # RecursionError: JSON nested thousands deep
            raise DataFormatError(f"cannot read it as a corpus: line {number} is not JSON "
                                  f"({type(err).__name__}: {str(err)[:80]})", file) from None
        if not isinstance(record, dict):
            raise DataFormatError(f"cannot read it as a corpus: line {number} holds a JSON "
                                  f"{type(record).__name__}, not an object with a text field", file)
        yield record


def _format(path: Path) -> str | None:
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    return CORPUS_FORMATS.get(suffixes[-1]) if suffixes else None


@dataclass(frozen=True)
class TextCorpus:
    """Unlabelled texts from files, folders and hub ids, streamed in the given order.

    Args:
        sources: Paths (files or folders) and hub ids (``owner/name``, optionally ``:config``).
        text_column: The column holding the text (jsonl/csv/parquet/hub data; ``.txt`` files give
            one text per line).
        split: The split of hub datasets (``stanfordnlp/imdb`` calls its unlabelled one ``unsupervised``).
        repeat: Read the corpus (after ``skip``/``limit``) this many times in a row (for benchmarks of
            memory growth).
        skip: Leave out the first ``skip`` texts (e.g. a held-out slice read with ``limit``).
        limit: Stop after this many texts (after ``skip``; ``None``: all).
        rank: This process' shard (``None``: from ``torch.distributed`` when it is initialised, else 0).
        world_size: Number of shards (``None``: likewise, else 1).
    """

    sources: Sequence[str | os.PathLike]
    text_column: str = "text"
    split: str = "train"
    repeat: int = 1
    skip: int = 0
    limit: int | None = None
    rank: int | None = None
    world_size: int | None = None

    def __post_init__(self) -> None:
        if isinstance(self.sources, (str, os.PathLike)):
            object.__setattr__(self, "sources", [self.sources])
        if not self.sources:
            raise ConfigError("a corpus needs at least one source (file, folder or hub id)")
        for name in ("repeat",):
            if getattr(self, name) < 1:
                raise ConfigError(f"TextCorpus.{name} must be >= 1, got {getattr(self, name)}")
        if self.skip < 0 or (self.limit is not None and self.limit < 0):
            raise ConfigError(f"TextCorpus skip/limit must be >= 0, got {self.skip}/{self.limit}")
        for source in self.sources:  # fail now, not half-way through a pretraining run
            if not is_hub_id(source):
                corpus_files(source)

    def shard(self) -> tuple[int, int]:
        """``(rank, world_size)`` of this process (see the class arguments)."""
        rank, world = self.rank, self.world_size
        if rank is None or world is None:
            import torch.distributed as dist

            on = dist.is_available() and dist.is_initialized()
            rank = (dist.get_rank() if on else int(os.environ.get("RANK", 0))) if rank is None else rank
            world = (dist.get_world_size() if on else int(os.environ.get("WORLD_SIZE", 1))) if world is None else world
        if not 0 <= rank < world:
            raise ConfigError(f"rank must be in [0, {world}), got {rank}")
        return rank, world

    def all_texts(self) -> Iterator[str]:
        """Every text of the corpus (``skip``/``limit`` applied to each ``repeat`` pass), ignoring the shard."""
        stop = None if self.limit is None else self.skip + self.limit

        def one_pass() -> Iterator[str]:
            texts = itertools.chain.from_iterable(self._source_texts(s) for s in self.sources)
            return itertools.islice(texts, self.skip, stop)

        return itertools.chain.from_iterable(one_pass() for _ in range(self.repeat))

    def __iter__(self) -> Iterator[str]:
        """This rank's texts: every ``world_size``-th one of :meth:`all_texts`, starting at ``rank``."""
        rank, world = self.shard()
        return itertools.islice(self.all_texts(), rank, None, world)

    def tokens(self, tokenizer: TextTokenizer, *, batch_size: int = 256) -> Iterator[list[str]]:
        """This rank's texts as token lists (``tokenizer.pipe``, ``batch_size`` texts at a time)."""
        return tokenizer.pipe(iter(self), batch_size=batch_size)

    # ------------------------------------------------------------------ reading
    def _source_texts(self, source: str | os.PathLike) -> Iterator[str]:
        from datasets import load_dataset

        if is_hub_id(source):
            path, _, name = str(source).partition(":")
            try:
                stream = load_dataset(path, **({"name": name} if name else {}), split=self.split, streaming=True)
            except Exception as err:  # offline, unknown id, unknown split...
                raise DataFormatError(f"not a local file or folder, and streaming it from the Hugging Face hub "
                                      f"failed ({type(err).__name__}: {err}); offline, pass local files",
                                      source) from None
            yield from self._column(stream, source, self.text_column)
            return
        for file in corpus_files(source):
            builder = _format(file)
            if builder == "text":
                yield from _lines(file)
            elif _is_json_lines(file):
                yield from self._column(_json_records(file), file, self.text_column)
            else:
                stream = load_dataset(builder, data_files=str(file), split="train", streaming=True)
                yield from self._column(stream, file, self.text_column)

    @staticmethod
    def _column(stream, source, column: str) -> Iterator[str]:
        rows = iter(stream)
        try:
            for number, row in enumerate(rows, start=1):
                if column not in row:
                    raise DataFormatError(f"no {column!r} column (columns: {', '.join(map(str, row))}); pass "
                                          "--text-column", source)
                text = row[column]
                if text is None:
                    continue
                if not isinstance(text, str):
                    raise DataFormatError(f"record {number}: {column!r} holds {type(text).__name__}, not text",
                                          source)
                yield text
        except DataFormatError:
            raise
        except Exception as err:  # pyarrow / json errors from a malformed file
            raise DataFormatError(f"cannot read it as a corpus ({type(err).__name__}: "
                                  f"{str(err).splitlines()[0] if str(err) else ''})", source) from None
