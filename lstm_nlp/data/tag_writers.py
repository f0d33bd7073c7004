"""The text of tagger predictions: the tagger's output formats (``slash``, ``jsonl``, ``conll``, what ``lstm-nlp
predict`` writes and ``lstm-nlp serve`` answers), registered in :mod:`lstm_nlp.data.output_formats` and shared
by the PyTorch and the ONNX backends.

Tags come in the scheme of the model's training files; CoNLL / CoNLL-U input (:data:`BLOCK_FORMATS`) is
written back as itself by :func:`lstm_nlp.data.conll_blocks.write_block`, or in any registered format.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence

from lstm_nlp.data.output_formats import register_output_format, registered_formats, writer
from lstm_nlp.errors import ConfigError

TASK = "tagger"  # the tagger's name among the output formats (lstm_nlp.pipelines.tasks)
#: Input formats read sentence by sentence and written back as themselves (their own output format).
BLOCK_FORMATS = ("conll", "conllu")

Span = tuple[int, int, str, float]  # start, end (exclusive), type, probability
Candidate = tuple[list[str], float, float]  # tags, score, probability


def line_sentences(lines: list[str], input_format: str,
                   tokenize: Callable[[Iterable[str]], list[list[str]]]) -> list[list[str]]:
    """The sentences of ``predict``'s input lines: raw text through ``tokenize``, or ``tokens`` split on whitespace.

    CoNLL and CoNLL-U input is read sentence by sentence instead (``predict_blocks``).
    """
    if input_format not in ("text", "tokens"):
        raise ConfigError(f"input format {input_format!r} is read sentence by sentence (predict_blocks)")
    return tokenize(lines) if input_format == "text" else [line.split() for line in lines]


def check_block_formats(input_format: str, output_format: str | None, conllu_problem: str | None) -> str:
    """The output format of ``predict_blocks`` (default: the input's own), refusing what cannot be written.

    ``conllu_problem``: why the model's tags have no CoNLL-U field (see :func:`conllu_tags_problem`), or ``None``.
    """
    output_format = output_format or input_format
    if input_format not in BLOCK_FORMATS:
        raise ConfigError(f"predict_blocks reads {' or '.join(map(repr, BLOCK_FORMATS))}, not {input_format!r}")
    if output_format in BLOCK_FORMATS and output_format != input_format:
        raise ConfigError(f"output format {output_format!r} needs {output_format!r} input, got {input_format!r}")
    if output_format == "conllu" and conllu_problem:
        raise ConfigError(f"{conllu_problem}; write them with output_format 'jsonl' or 'slash'")
    return output_format


def check_tag_output(output_format: str, probabilities: bool, top_k: int | None) -> None:
    """Refuses an unknown format, and probabilities or the k best sequences outside ``jsonl`` (before any work)."""
    formats = registered_formats(TASK)
    if output_format not in formats:
        raise ConfigError(f"output format must be one of {', '.join(formats)}, got {output_format!r}")
    if (probabilities or top_k) and output_format != "jsonl":
        raise ConfigError("probabilities and the k best sequences are written in the jsonl output format")


def conllu_tags_problem(scheme: str) -> str | None:
    """Why a tagger of ``scheme`` has no field for its tags in a CoNLL-U file, or ``None``.

    Span tags (entities, chunks: any scheme but ``"none"``) are refused rather than written into
    UPOS or XPOS, which hold part-of-speech tags: a file with entity tags there looks valid and
    misleads every CoNLL-U tool that reads it. MISC has no standard key for them either.
    """
    if scheme == "none":
        return None
    return (f"this model predicts {scheme.upper()} span tags (entities or chunks), and no CoNLL-U field "
            "holds them (UPOS and XPOS are part-of-speech tags)")


def output_formats(input_format: str) -> tuple[str, ...]:
    """The output formats that go with ``input_format``, the default first: the registered ones, and for
    CoNLL / CoNLL-U input the input's own format first (written back) without the other block format."""
    formats = tuple(registered_formats(TASK))
    if input_format not in BLOCK_FORMATS:
        return formats
    return (input_format, *(name for name in formats if name not in BLOCK_FORMATS))


def write_tagged(sentences: Sequence[Sequence[str]], tags: Sequence[Sequence[str]], output_format: str,
                 **extras) -> list[str]:
    """One output item per sentence in the registered ``output_format`` (``extras``: the ``jsonl`` writer's)."""
    return writer(TASK, output_format)(sentences, tags, **extras)


@register_output_format(TASK, "slash", help="token/TAG; the default for text and tokens input")
def write_slash(sentences: Sequence[Sequence[str]], tags: Sequence[Sequence[str]], **extras) -> list[str]:
    """``token/TAG token/TAG ...``, one line per sentence."""
    return [" ".join(f"{t}/{g}" for t, g in zip(tokens, seq)) for tokens, seq in zip(sentences, tags)]


@register_output_format(TASK, "jsonl", help="{tokens, tags}")
def write_jsonl(sentences: Sequence[Sequence[str]], tags: Sequence[Sequence[str]], *,
                probabilities: Sequence[Sequence[float]] | None = None, spans: Sequence[Sequence[Span]] | None = None,
                top_k: Sequence[Sequence[Candidate]] | None = None) -> list[str]:
    """A JSON object per sentence with ``tokens``, ``tags`` and, when given, ``probabilities``, ``spans`` and
    ``top_k`` (probabilities rounded to 6 digits)."""
    records = [{"tokens": list(tokens), "tags": list(seq)} for tokens, seq in zip(sentences, tags)]
    for record, values in zip(records, probabilities or ()):
        record["probabilities"] = [round(v, 6) for v in values]
    for record, found in zip(records, spans or ()):
        record["spans"] = [{"start": start, "end": stop, "label": kind, "probability": round(value, 6)}
                           for start, stop, kind, value in found]
    for record, candidates in zip(records, top_k or ()):
        record["top_k"] = [{"tags": seq, "score": round(score, 6), "probability": round(probability, 6)}
                           for seq, score, probability in candidates]
    return [json.dumps(record, ensure_ascii=False) for record in records]


@register_output_format(TASK, "conll", help="text/tokens input: token<TAB>TAG lines; CoNLL input: its lines plus "
                                            "a last column with the tag, what conlleval reads; the default there")
def write_conll(sentences: Sequence[Sequence[str]], tags: Sequence[Sequence[str]], **extras) -> list[str]:
    """``token<TAB>TAG`` lines, each sentence's ending with a blank line (CoNLL input: :func:`write_block`)."""
    return ["".join(f"{t}\t{g}\n" for t, g in zip(tokens, seq)) for tokens, seq in zip(sentences, tags)]


@register_output_format(TASK, "tsv", help="token<TAB>TAG lines, a blank line after each sentence, from any input")
def write_tsv(sentences: Sequence[Sequence[str]], tags: Sequence[Sequence[str]], **extras) -> list[str]:
    """``token<TAB>TAG`` lines, each sentence's ending with a blank line, whatever the input (CoNLL-U too):
    :func:`write_conll`'s text, which CoNLL input writes back as its own lines instead."""
    return write_conll(sentences, tags)
