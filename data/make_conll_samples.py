"""Writes the bundled NER and chunking samples from a hand-made grammar.

* ``data/ner/{train,dev,test}.txt``: CoNLL-2003 layout ``token POS chunk NER`` (IOB2), with
  ``-DOCSTART- -X- -X- O`` lines between documents;
* ``data/chunking/{train,test}.txt``: CoNLL-2000 layout ``token POS chunk`` (IOB2), no dev split
  (the chunking recipe carves one from train, as for the real corpus).

Every sentence of a sample is distinct: the dev and test sentences never occur in its train
file. Written for this project (no third-party text); a demo of the recipes, not a benchmark.
Run ``python data/make_conll_samples.py`` to regenerate; the output is deterministic.
"""

import random
from pathlib import Path

# Entities: (tokens, POS tags); every entity is a whole noun phrase.
ENTITIES = {
    "PER": [("Maria Lopez", "NNP NNP"), ("John Smith", "NNP NNP"), ("Anna Berg", "NNP NNP"), ("Kenji Sato", "NNP NNP"),
            ("Ali Hassan", "NNP NNP"), ("Laura Chen", "NNP NNP"), ("Smith", "NNP"), ("Peter van Dijk", "NNP NNP NNP")],
    "ORG": [("Acme Corp", "NNP NNP"), ("Blue River Bank", "NNP NNP NNP"), ("Northwind", "NNP"), ("Globex", "NNP"),
            ("United Makers Union", "NNP NNP NNP"), ("City Council", "NNP NNP")],
    "LOC": [("Paris", "NNP"), ("New York", "NNP NNP"), ("Lake Placid", "NNP NNP"), ("Berlin", "NNP"),
            ("Cape Town", "NNP NNP"), ("Osaka", "NNP"), ("Lima", "NNP")],
    "MISC": [("German", "JJ"), ("Olympic", "JJ"), ("French", "JJ"), ("Brazilian", "JJ"), ("Nobel", "NNP")],
}
WORDS = {
    "SAID": [("said", "VBD"), ("announced", "VBD"), ("reported", "VBD")],
    "VERB": [("will open", "MD VB"), ("has bought", "VBZ VBN"), ("plans to build", "VBZ TO VB"), ("sold", "VBD")],
    "DAY": [("Monday", "NNP"), ("Friday", "NNP"), ("Tuesday", "NNP")],
    "ADJ": [("new", "JJ"), ("large", "JJ"), ("small", "JJ"), ("second", "JJ")],
    "NOUN": [("factory", "NN"), ("office", "NN"), ("stadium", "NN"), ("bridge", "NN"), ("school", "NN")],
    "NUM": [("12", "CD"), ("300", "CD"), ("1,500", "CD"), ("two", "CD")],
    "UNIT": [("workers", "NNS"), ("jobs", "NNS"), ("million dollars", "CD NNS")],
}
# A template is a list of (slot, chunk type); "PER"... are entities, "THE" etc. literal words.
LITERALS = {"THE": ("the", "DT"), "A": ("a", "DT"), "IN": ("in", "IN"), "ON": ("on", "IN"), "THAT": ("that", "IN"),
            "FOR": ("for", "IN"), "WITH": ("with", "IN"), ".": (".", "."), ",": (",", ","), "AND": ("and", "CC")}
TEMPLATES = [
    [("PER", "NP"), ("SAID", "VP"), ("ON", "PP"), ("DAY", "NP"), ("THAT", "SBAR"), ("ORG", "NP"), ("VERB", "VP"),
     ("A ADJ NOUN", "NP"), ("IN", "PP"), ("LOC", "NP"), (".", "O")],
    [("ORG", "NP"), ("VERB", "VP"), ("THE NOUN", "NP"), ("IN", "PP"), ("LOC", "NP"), ("FOR", "PP"),
     ("NUM UNIT", "NP"), (".", "O")],
    [("THE MISC NOUN", "NP"), ("IN", "PP"), ("LOC", "NP"), ("SAID", "VP"), ("NUM UNIT", "NP"), (".", "O")],
    [("LOC", "NP"), (",", "O"), ("DAY", "NP"), ("PER", "NP"), ("SAID", "VP"), ("ORG", "NP"), ("VERB", "VP"),
     ("THE ADJ NOUN", "NP"), (".", "O")],
    [("PER", "NP"), ("AND", "O"), ("PER", "NP"), ("VERB", "VP"), ("A NOUN", "NP"), ("WITH", "PP"), ("ORG", "NP"),
     (".", "O")],
    [("THE MISC ADJ NOUN", "NP"), ("VERB", "VP"), ("NUM UNIT", "NP"), ("ON", "PP"), ("DAY", "NP"), (".", "O")],
]


def _words(slot: str, rng: random.Random) -> list[tuple[str, str, str]]:
    """(token, POS, entity tag) triples of one slot."""
    out = []
    for part in slot.split():
        if part in ENTITIES:
            text, pos = rng.choice(ENTITIES[part])
            for i, (token, tag) in enumerate(zip(text.split(), pos.split())):
                out.append((token, tag, ("B-" if i == 0 else "I-") + part))
        elif part in LITERALS:
            out.append((*LITERALS[part], "O"))
        else:
            text, pos = rng.choice(WORDS[part])
            out.extend((token, tag, "O") for token, tag in zip(text.split(), pos.split()))
    return out


def sentence(rng: random.Random) -> list[tuple[str, str, str, str]]:
    """One sentence as (token, POS, chunk, NER) rows."""
    rows = []
    for slot, chunk in rng.choice(TEMPLATES):
        for i, (token, pos, ner) in enumerate(_words(slot, rng)):
            rows.append((token, pos, "O" if chunk == "O" else ("B-" if i == 0 else "I-") + chunk, ner))
    rows[0] = (rows[0][0][:1].upper() + rows[0][0][1:], *rows[0][1:])
    return rows


def write(path: Path, sentences: list, *, columns: int, docs_every: int | None) -> None:
    lines = []
    for number, rows in enumerate(sentences):
        if docs_every and number % docs_every == 0:
            lines += ["-DOCSTART- -X- -X- O", ""]
        lines += [" ".join(row[:columns]) for row in rows] + [""]
    path.write_text("\n".join(lines), encoding="utf-8")


def distinct_sentences(rng: random.Random, counts: dict[str, int], seen: set[str]) -> dict[str, list]:
    """``counts[split]`` sentences per split; none twice, none already in ``seen`` (updated)."""
    splits = {}
    for split, count in counts.items():
        splits[split] = []
        while len(splits[split]) < count:
            rows = sentence(rng)
            key = " ".join(row[0] for row in rows)
            if key not in seen:
                seen.add(key)
                splits[split].append(rows)
    return splits


if __name__ == "__main__":
    rng = random.Random(2026)
    root = Path(__file__).parent
    (root / "ner").mkdir(exist_ok=True)
    (root / "chunking").mkdir(exist_ok=True)
    ner = distinct_sentences(rng, {"train": 80, "dev": 20, "test": 20}, set())
    for split, sentences in ner.items():
        write(root / "ner" / f"{split}.txt", sentences, columns=4, docs_every=10)
    for split, sentences in distinct_sentences(rng, {"train": 80, "test": 20}, set()).items():
        write(root / "chunking" / f"{split}.txt", sentences, columns=3, docs_every=None)
