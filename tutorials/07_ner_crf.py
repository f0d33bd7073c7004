# %% [markdown]
# # 7. NER with a CRF / 用 CRF 做命名实体识别
#
# BIO tags, why a CRF on top of the BiLSTM, decoding constrained to well-formed tag sequences, seqeval's
# entity report and the k best tag sequences. Bundled sample `data/ner/`; set `LSTM_NLP_TUTORIAL_DATA` for CoNLL-2003.
#
# BIO 标注、为什么在双向 LSTM 上加 CRF、只允许合法标签序列的约束解码、seqeval 实体报告，以及 k 个最优标签序列。
# 默认使用自带样本 `data/ner/`；设置 `LSTM_NLP_TUTORIAL_DATA` 可改用 CoNLL-2003。

# %%
import os

import matplotlib.pyplot as plt

from lstm_nlp.data import Vocab
from lstm_nlp.data.conll import read_conll
from lstm_nlp.models import SequenceTagger, TaggerConfig
from lstm_nlp.modules import allowed_transitions
from lstm_nlp.pipelines import TaggingPipeline
from lstm_nlp.pipelines.tagging import build_char_vocab
from lstm_nlp.tags import is_valid, to_spans
from lstm_nlp.training import Trainer, TrainerConfig, seed_everything

seed_everything(0)
FOLDER = (os.path.join(os.environ["LSTM_NLP_TUTORIAL_DATA"], "conll2003") if os.environ.get("LSTM_NLP_TUTORIAL_DATA")
          else "data/ner")
EPOCHS, HIDDEN = 8, 64     # change these / 可以改这些

# %% [markdown]
# ## BIO tags / BIO 标签
#
# `B-X` begins an entity of type X, `I-X` continues it, `O` is outside. `I-PER` right after `O` is ill-formed.
#
# `B-X` 表示类型 X 的实体开始，`I-X` 表示继续，`O` 表示不属于实体。`O` 之后紧跟 `I-PER` 是不合法的。

# %%
train = read_conll(f"{FOLDER}/train.txt", scheme="iob2")
dev = read_conll(f"{FOLDER}/dev.txt", scheme="iob2")
tokens, tags = train[0]["tokens"], train[0]["tags"]
print(list(zip(tokens, tags)))
print(to_spans(tags, "iob2"))
assert is_valid(["B-PER", "I-PER", "O"], "iob2") and not is_valid(["O", "I-PER"], "iob2")

# %% [markdown]
# ## Why a CRF, and constrained decoding / 为什么用 CRF，以及约束解码
#
# A softmax head picks each tag on its own and can output `O I-PER`; the CRF scores whole sequences, and with
# `allowed_transitions` its Viterbi decoding never takes a forbidden move.
#
# softmax 输出层独立地为每个词选标签，可能输出 `O I-PER`；CRF 对整条序列打分，配合 `allowed_transitions`，
# 维特比解码永远不会走不合法的转移。

# %%
words = Vocab.build(train["tokens"], min_freq=1)
labels = Vocab.build_labels(train["tags"])
chars = build_char_vocab(train["tokens"])
pipelines = {}
for head in ("softmax", "crf"):
    config = TaggerConfig(vocab_size=len(words), num_labels=len(labels), embedding_dim=32, hidden_size=HIDDEN,
                          num_layers=1, dropout=0.2, char_encoder="cnn", char_vocab_size=len(chars), head=head)
    constraints = allowed_transitions(labels.itos, "iob2") if head == "crf" else None
    pipeline = TaggingPipeline(SequenceTagger(config, constraints=constraints), words, labels, chars=chars,
                               scheme="iob2")
    Trainer(pipeline.model, TrainerConfig(epochs=EPOCHS, lr=5e-3, metric="f1", device="cpu", progress=False),
            train_loader=pipeline.loader(pipeline.encode(train), batch_size=16, shuffle=True),
            evaluate=lambda m, p=pipeline: p.evaluate(dev)).fit()
    pipelines[head] = pipeline

predicted = pipelines["crf"].predict_tokens(list(dev["tokens"]))
assert all(is_valid(sequence, "iob2") for sequence in predicted)   # constrained: always well-formed
softmax_predicted = pipelines["softmax"].predict_tokens(list(dev["tokens"]))
ill_formed = sum(not is_valid(sequence, "iob2") for sequence in softmax_predicted)
print(f"ill-formed dev sentences: softmax {ill_formed}, CRF 0 of {len(predicted)}")

# %% [markdown]
# ## seqeval's entity report / seqeval 实体报告

# %%
scores = {head: pipeline.evaluate(dev) for head, pipeline in pipelines.items()}
print(scores["crf"]["report"])
all_o = 0.0  # predicting O everywhere finds no entity: F1 0 / 全部预测为 O 时 F1 为 0
assert scores["crf"]["f1"] > 0.5 > all_o
print(f"{'head':<10}{'precision':>10}{'recall':>10}{'F1':>10}")
for head, s in scores.items():
    print(f"{head:<10}{s['precision']:>10.3f}{s['recall']:>10.3f}{s['f1']:>10.3f}")

# %% [markdown]
# ## The k best tag sequences / k 个最优标签序列

# %%
sentence = ["Laura", "Chen", "visited", "Berlin", "on", "Monday", "."]
candidates = pipelines["crf"].predict_top_k([sentence], 3)[0]
assert len(candidates) == 3 and candidates[0][0] == pipelines["crf"].predict_tokens([sentence])[0]
assert all(a[1] >= b[1] for a, b in zip(candidates, candidates[1:]))   # best first
for rank, (sequence, _score, probability) in enumerate(candidates, 1):
    print(rank, f"{probability:.3f}", " ".join(f"{w}/{t}" for w, t in zip(sentence, sequence)))
plt.figure(figsize=(5, 2.5))
plt.bar([f"#{i}" for i in range(1, 4)], [c[2] for c in candidates])
plt.ylabel("P(sequence)")
plt.title("CRF: 3 best tag sequences")
plt.show()
