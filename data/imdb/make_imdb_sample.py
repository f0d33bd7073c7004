"""Writes the bundled IMDB-style sample (data/imdb/{train,dev,test}.jsonl).

The reviews are short texts written for this project (not taken from IMDB), in the columns of
the Hugging Face ``stanfordnlp/imdb`` dataset: ``text`` and ``label`` (0 negative, 1 positive):
60 hand-written reviews plus reviews composed from sentence templates and word lists, so that
a model trained on the sample has seen each sentiment word in several contexts (``This film is
great`` comes out positive). Every review is distinct and no dev or test review occurs in
train. It is a demo of the recipe, not a benchmark.

    python data/imdb/make_imdb_sample.py
"""

import json
import random
from pathlib import Path

POSITIVE = [
    "A wonderful film with a warm heart and a brilliant cast. I loved every minute of it.",
    "The acting is superb and the story moved me to tears. A true masterpiece.",
    "Funny, clever and beautifully shot.<br /><br />I would happily watch it again tomorrow.",
    "One of the best movies I have seen this year; the score is gorgeous and the ending is perfect.",
    "Great performances all round, especially the young lead. Highly recommended!",
    "A delightful surprise: charming, smart and full of life.",
    "The director handles the quiet moments with real grace. Excellent work.",
    "I laughed, I cried, I cheered. A fantastic family movie.",
    "Stunning photography and a moving, honest script. Brilliant.",
    "An enjoyable, exciting adventure with terrific action scenes and a lovable hero.",
    "Touching and beautifully acted; this film stays with you long after the credits.",
    "A gem of a comedy. The jokes land and the characters feel real.",
    "Superb from start to finish, with a wonderful soundtrack and a great villain.",
    "I was hooked from the first scene. Smart writing and excellent pacing.",
    "The best thriller in years: tense, clever and very well made.",
    "A lovely, gentle story told with great care. I adored it.",
    "Amazing special effects, and for once a story that matches them. Great fun.",
    "Her performance is brilliant, and the whole cast is just as good.",
    "Warm, witty and wise. A perfect evening at the movies.",
    "An inspiring true story, told with honesty and heart. Highly recommended.",
    "Gorgeous to look at and a joy to watch; the best animated film I know.",
    "Excellent dialogue, memorable characters and a satisfying ending.",
    "I loved the chemistry between the two leads. Sweet and very funny.",
    "A powerful, beautifully made drama with an outstanding lead performance.",
    "Clever, fresh and exciting. I recommend it to everyone.",
    "The music, the costumes, the acting: everything about this film is wonderful.",
    "A brilliant documentary, fascinating and moving at the same time.",
    "Fun for the whole family, with great songs and a big heart.",
    "A thoughtful, well acted film that rewards your attention. Loved it.",
    "Simply great. Strong story, strong cast, strong direction.",
]

NEGATIVE = [
    "A boring, lifeless film with a terrible script. I nearly fell asleep.",
    "The acting is wooden and the plot makes no sense at all. Awful.",
    "Dull, slow and far too long.<br /><br />I wanted my two hours back.",
    "One of the worst movies I have seen this year; the dialogue is painful and the ending is stupid.",
    "Poor performances all round and a lazy, predictable story. Avoid it.",
    "A dreadful mess: confusing, ugly and completely pointless.",
    "The director has no idea how to tell a story. Terrible work.",
    "Not funny, not scary, not interesting. A waste of time.",
    "Cheap sets, bad lighting and an embarrassing script. Awful.",
    "A tedious, noisy action film with a boring hero and silly villains.",
    "Badly acted and badly written; I forgot it before the credits ended.",
    "A lame comedy. None of the jokes work and the characters are annoying.",
    "Awful from start to finish, with a horrible soundtrack and a weak villain.",
    "I was bored from the first scene. Lazy writing and terrible pacing.",
    "The worst thriller in years: predictable, silly and badly made.",
    "A dull, pointless story told without any care. I hated it.",
    "Cheap special effects and a story that is even worse. No fun at all.",
    "His performance is terrible, and the rest of the cast is no better.",
    "Stupid, loud and boring. A wasted evening at the movies.",
    "A disappointing film that gets everything wrong. Not recommended.",
    "Ugly to look at and a chore to watch; the worst animated film I know.",
    "Awkward dialogue, forgettable characters and a ridiculous ending.",
    "There is no chemistry between the two leads. Bland and never funny.",
    "A weak, poorly made drama with a miserable lead performance.",
    "Stale, dumb and boring. I would not recommend it to anyone.",
    "The music, the costumes, the acting: everything about this film is awful.",
    "A dull documentary, confusing and boring at the same time.",
    "Painful for the whole family, with bad songs and no heart.",
    "A shallow, poorly acted film that wastes your attention. Hated it.",
    "Simply bad. Weak story, weak cast, weak direction.",
]


NOUNS = ["film", "movie", "story", "acting", "script", "ending", "soundtrack", "direction", "cast", "plot",
         "dialogue", "photography"]
WORDS = {
    1: {"adj": ["great", "wonderful", "brilliant", "excellent", "superb", "moving", "clever", "beautiful",
                "charming", "fantastic", "funny", "gripping"],
        "verb": ["loved", "enjoyed", "adored", "admired"],
        "end": ["Highly recommended.", "I would watch it again.", "A real treat.", "Do not miss it.",
                "Ten out of ten."]},
    0: {"adj": ["terrible", "boring", "awful", "dull", "weak", "lazy", "silly", "ugly", "tedious", "dreadful",
                "painful", "clumsy"],
        "verb": ["hated", "disliked", "regretted", "endured"],
        "end": ["Avoid it.", "I want my money back.", "A real waste.", "Skip this one.", "Zero out of ten."]},
}
TEMPLATES = [
    "This {noun} is {adj}.",
    "The {noun} is {adj} and the {noun2} is {adj2}.",
    "I {verb} this {noun}.",
    "What a {adj} {noun}!",
    "A {adj}, {adj2} {noun}.",
    "The {noun} felt {adj} from start to finish.",
    "Honestly, the {noun} was {adj}.",
]
NEUTRAL = ["I saw it on a Sunday with friends.", "It runs for about two hours.", "The cinema was full.",
           "It is based on a novel.", "We watched it at home.", ""]


def composed(rng: random.Random, label: int) -> str:
    words = WORDS[label]
    parts = []
    for template in rng.sample(TEMPLATES, rng.randint(1, 2)):
        adj, adj2 = rng.sample(words["adj"], 2)
        noun, noun2 = rng.sample(NOUNS, 2)
        parts.append(template.format(adj=adj, adj2=adj2, noun=noun, noun2=noun2, verb=rng.choice(words["verb"])))
    parts += [rng.choice(NEUTRAL), rng.choice(words["end"]) if rng.random() < 0.5 else ""]
    rng.shuffle(parts)
    text = " ".join(p for p in parts if p)
    return text[:1].upper() + text[1:]


def main() -> None:
    rng = random.Random(7)
    written = {1: list(POSITIVE), 0: list(NEGATIVE)}
    for label in written:
        rng.shuffle(written[label])
    seen = set(POSITIVE) | set(NEGATIVE)
    generated = {0: [], 1: []}
    for label in generated:
        while len(generated[label]) < 670:
            text = composed(rng, label)
            if text not in seen:
                seen.add(text)
                generated[label].append(text)
    # per label: train 20 written + 580 composed, dev 5 + 45, test 5 + 45
    cuts = {"train": (slice(0, 20), slice(0, 580)), "dev": (slice(20, 25), slice(580, 625)),
            "test": (slice(25, 30), slice(625, 670))}
    out = Path(__file__).resolve().parent
    for name, (hand, made) in cuts.items():
        split = [{"text": text, "label": label} for label in (1, 0)
                 for text in written[label][hand] + generated[label][made]]
        random.Random(name).shuffle(split)
        lines = [json.dumps(r, ensure_ascii=False) for r in split]
        (out / f"{name}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
