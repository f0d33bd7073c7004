"""Writes the bundled IMDB-style sample (data/imdb/{train,dev,test}.jsonl).

The reviews are short texts written for this project (not taken from IMDB), in the columns of
the Hugging Face ``stanfordnlp/imdb`` dataset: ``text`` and ``label`` (0 negative, 1 positive).

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


def main() -> None:
    rows = [{"text": t, "label": 1} for t in POSITIVE] + [{"text": t, "label": 0} for t in NEGATIVE]
    random.Random(7).shuffle(rows)
    pos = [r for r in rows if r["label"] == 1]
    neg = [r for r in rows if r["label"] == 0]
    splits = {"train": pos[:20] + neg[:20], "dev": pos[20:25] + neg[20:25], "test": pos[25:] + neg[25:]}
    out = Path(__file__).resolve().parent
    for name, split in splits.items():
        random.Random(name).shuffle(split)
        lines = [json.dumps(r, ensure_ascii=False) for r in split]
        (out / f"{name}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
