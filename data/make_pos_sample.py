"""Writes the bundled POS sample (data/pos/*.conllu): sentences from a small hand-made grammar.

Written for this project (no third-party text). A sentence is a subject noun phrase, a verb
phrase (intransitive, transitive, with an auxiliary, with adverbs and prepositional phrases) and
sometimes a second clause after a conjunction, so a word's tag is not given away by its position
(``The dog sleeps .`` and ``She sleeps quietly .`` both occur). Every sentence is distinct and
the dev and test sentences never occur in train. It is a demo of the recipe, not a benchmark:
the grammar is small, so scores on it say little about real text.

Run ``python data/make_pos_sample.py`` to regenerate; the output is deterministic.
"""

import random
from pathlib import Path

DET = ["the", "a", "this", "every", "that", "each"]
DET_PL = ["the", "some", "these", "those", "all"]
ADJ = ["small", "old", "green", "quiet", "bright", "heavy", "clever", "new", "happy", "tired"]
NOUN = ["dog", "teacher", "river", "model", "city", "garden", "student", "machine", "song", "window", "cat",
        "child", "farmer", "house", "letter", "bird"]
NOUN_PL = ["dogs", "cities", "songs", "windows", "models", "gardens", "cats", "children", "farmers", "letters"]
PROPN = ["Alice", "Paris", "Bob", "London", "Maria", "Tokyo", "Omar", "Lena"]
PRON_SG = ["she", "he", "it"]
PRON_PL = ["they", "we", "you"]
PRON_OBJ = ["her", "him", "them", "us", "it"]
VERB_TR = [("sees", "see"), ("likes", "like"), ("builds", "build"), ("follows", "follow"), ("paints", "paint"),
           ("finds", "find"), ("trains", "train"), ("opens", "open"), ("reads", "read"), ("helps", "help")]
VERB_INTR = [("sleeps", "sleep"), ("runs", "run"), ("smiles", "smile"), ("waits", "wait"), ("sings", "sing"),
             ("works", "work"), ("laughs", "laugh"), ("walks", "walk")]
ADV = ["quickly", "often", "slowly", "always", "quietly", "again", "soon"]
ADP = ["near", "in", "under", "with", "behind", "at", "from"]
AUX = ["will", "can", "must", "may"]
CCONJ = ["and", "but"]
NUM = ["two", "three", "seven", "ten", "four"]


def pick(rng: random.Random, words: list, tag: str) -> list[tuple[str, str]]:
    return [(rng.choice(words), tag)]


def noun_phrase(rng: random.Random, *, subject: bool) -> tuple[list[tuple[str, str]], bool]:
    """(words, plural) of a noun phrase."""
    kind = rng.choice(["det", "det_adj", "propn", "pron", "plural", "num"])
    if kind == "det":
        return pick(rng, DET, "DET") + pick(rng, NOUN, "NOUN"), False
    if kind == "det_adj":
        return pick(rng, DET, "DET") + pick(rng, ADJ, "ADJ") + pick(rng, NOUN, "NOUN"), False
    if kind == "propn":
        return pick(rng, PROPN, "PROPN"), False
    if kind == "pron":
        if not subject:
            return pick(rng, PRON_OBJ, "PRON"), False
        plural = rng.random() < 0.5
        return pick(rng, PRON_PL if plural else PRON_SG, "PRON"), plural
    if kind == "plural":
        words = pick(rng, DET_PL, "DET") + (pick(rng, ADJ, "ADJ") if rng.random() < 0.4 else [])
        return words + pick(rng, NOUN_PL, "NOUN"), True
    return pick(rng, NUM, "NUM") + pick(rng, NOUN_PL, "NOUN"), True


def prepositional_phrase(rng: random.Random) -> list[tuple[str, str]]:
    return pick(rng, ADP, "ADP") + noun_phrase(rng, subject=False)[0]


def verb_phrase(rng: random.Random, plural: bool) -> list[tuple[str, str]]:
    form = 1 if plural else 0
    kind = rng.choice(["intr", "intr", "tr", "tr", "aux_intr", "aux_tr"])
    words = pick(rng, ADV, "ADV") if rng.random() < 0.15 else []
    if kind.startswith("aux"):
        words += pick(rng, AUX, "AUX")
        form = 1
    if kind.endswith("intr"):
        words.append((rng.choice(VERB_INTR)[form], "VERB"))
    else:
        words.append((rng.choice(VERB_TR)[form], "VERB"))
        words += noun_phrase(rng, subject=False)[0]
    if rng.random() < 0.4:
        words += pick(rng, ADV, "ADV")
    if rng.random() < 0.35:
        words += prepositional_phrase(rng)
    return words


def clause(rng: random.Random) -> list[tuple[str, str]]:
    subject, plural = noun_phrase(rng, subject=True)
    return subject + verb_phrase(rng, plural)


def sentence(rng: random.Random) -> list[tuple[str, str]]:
    words = []
    if rng.random() < 0.1:
        words += pick(rng, ADV, "ADV") + [(",", "PUNCT")]
    words += clause(rng)
    if rng.random() < 0.2:
        words += pick(rng, CCONJ, "CCONJ") + clause(rng)
    words.append((".", "PUNCT"))
    words[0] = (words[0][0][:1].upper() + words[0][0][1:], words[0][1])
    return words


def write(path: Path, sentences: list[list[tuple[str, str]]]) -> None:
    lines = []
    for number, words in enumerate(sentences, start=1):
        lines.append(f"# sent_id = {path.stem}-{number}")
        lines.append("# text = " + " ".join(w for w, _ in words))
        for i, (word, tag) in enumerate(words, start=1):
            lines.append(f"{i}\t{word}\t_\t{tag}\t_\t_\t_\t_\t_\t_")
        lines.append("")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def distinct_sentences(rng: random.Random, counts: dict[str, int]) -> dict[str, list]:
    """``counts[split]`` sentences per split, no sentence twice across all splits."""
    seen, splits = set(), {}
    for split, count in counts.items():
        splits[split] = []
        while len(splits[split]) < count:
            words = sentence(rng)
            key = " ".join(w for w, _ in words)
            if key not in seen:
                seen.add(key)
                splits[split].append(words)
    return splits


if __name__ == "__main__":
    out = Path(__file__).parent / "pos"
    out.mkdir(exist_ok=True)
    for split, sentences in distinct_sentences(random.Random(2026), {"train": 300, "dev": 50, "test": 50}).items():
        write(out / f"{split}.conllu", sentences)
