"""Writes the bundled POS sample (data/pos/*.conllu): small sentences from a hand-made grammar.

Written for this project (no third-party text). Run ``python data/make_pos_sample.py`` to
regenerate; the output is deterministic.
"""

import random
from pathlib import Path

LEXICON = {
    "DET": ["the", "a", "this", "every", "that"],
    "ADJ": ["small", "old", "green", "quiet", "bright", "heavy", "clever", "new"],
    "NOUN": ["dog", "teacher", "river", "model", "city", "garden", "student", "machine", "song", "window"],
    "PROPN": ["Alice", "Paris", "Bob", "London", "Maria", "Tokyo"],
    "VERB": ["sees", "likes", "builds", "follows", "paints", "finds", "trains", "opens"],
    "VERB_INTR": ["sleeps", "runs", "smiles", "waits", "sings", "works"],
    "ADV": ["quickly", "often", "slowly", "always", "quietly"],
    "ADP": ["near", "in", "under", "with", "behind"],
    "PRON": ["she", "he", "they", "we", "it"],
    "AUX": ["will", "can", "must"],
    "VERB_BASE": ["see", "build", "follow", "paint", "find", "open"],
    "CCONJ": ["and", "but"],
    "NUM": ["two", "three", "seven", "ten"],
    "NOUN_PL": ["dogs", "cities", "songs", "windows", "models", "gardens"],
}
TEMPLATES = [
    "DET ADJ NOUN VERB DET NOUN .",
    "PROPN VERB DET NOUN ADP DET NOUN .",
    "PRON VERB_INTR ADV .",
    "DET NOUN VERB_INTR ADP DET ADJ NOUN .",
    "PRON AUX VERB_BASE DET NOUN .",
    "PROPN CCONJ PROPN VERB NUM NOUN_PL .",
    "DET NOUN ADV VERB DET ADJ NOUN .",
    "PRON VERB NUM ADJ NOUN_PL ADP PROPN .",
    "DET ADJ NOUN VERB_INTR CCONJ PRON VERB_INTR ADV .",
    "ADV , PROPN VERB DET NOUN .",
]
TAG_OF = {"VERB_INTR": "VERB", "VERB_BASE": "VERB", "NOUN_PL": "NOUN", ".": "PUNCT", ",": "PUNCT"}


def sentence(rng: random.Random) -> list[tuple[str, str]]:
    words = []
    for slot in rng.choice(TEMPLATES).split():
        word = slot if slot in ".," else rng.choice(LEXICON[slot])
        words.append((word, TAG_OF.get(slot, slot)))
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


if __name__ == "__main__":
    rng = random.Random(2026)
    out = Path(__file__).parent / "pos"
    out.mkdir(exist_ok=True)
    for split, count in (("train", 200), ("dev", 40), ("test", 40)):
        write(out / f"{split}.conllu", [sentence(rng) for _ in range(count)])
