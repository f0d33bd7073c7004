"""The text of tagger predictions read line by line: ``slash``, ``conll`` and ``jsonl`` (what ``lstm-nlp predict``
writes and ``lstm-nlp serve`` answers), shared by the PyTorch and the ONNX backends.

Tags come in the scheme of the model's training files; CoNLL / CoNLL-U files are written back as
themselves by :func:`lstm_nlp.data.conll_blocks.write_block`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence

from lstm_nlp.errors import ConfigError

#: Output formats of tagger predictions read line by line.
OUTPUT_FORMATS = ("slash", "jsonl", "conll")

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
    if input_format not in ("conll", "conllu"):
        raise ConfigError(f"predict_blocks reads 'conll' or 'conllu', not {input_format!r}")
    if output_format in ("conll", "conllu") and output_format != input_format:
        raise ConfigError(f"output format {output_format!r} needs {output_format!r} input, got {input_format!r}")
    if output_format == "conllu" and conllu_problem:
        raise ConfigError(f"{conllu_problem}; write them with output_format 'jsonl' or 'slash'")
    return output_format


def check_tag_output(output_format: str, probabilities: bool, top_k: int | None) -> None:
    """Refuses an unknown format, and probabilities or the k best sequences outside ``jsonl`` (before any work)."""
    if output_format not in OUTPUT_FORMATS:
        raise ConfigError(f"output format must be one of {', '.join(OUTPUT_FORMATS)}, got {output_format!r}")
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


def write_tagged(sentences: Sequence[Sequence[str]], tags: Sequence[Sequence[str]], output_format: str, *,
                 probabilities: Sequence[Sequence[float]] | None = None, spans: Sequence[Sequence[Span]] | None = None,
                 top_k: Sequence[Sequence[Candidate]] | None = None) -> list[str]:
    """One output item per sentence: ``token/TAG ...`` (slash), ``token<TAB>TAG`` lines (conll), or a JSON
    object with ``tokens``, ``tags`` and, when given, ``probabilities``, ``spans`` and ``top_k`` (jsonl;
    probabilities rounded to 6 digits)."""
    if output_format == "slash":
        return [" ".join(f"{t}/{g}" for t, g in zip(tokens, seq)) for tokens, seq in zip(sentences, tags)]
    if output_format == "conll":
        return ["".join(f"{t}\t{g}\n" for t, g in zip(tokens, seq)) for tokens, seq in zip(sentences, tags)]
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
