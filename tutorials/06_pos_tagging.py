# %% [markdown]
# # 6. POS tagging: from the toy `LSTMTagger` to the recipe's model / 词性标注：从玩具 `LSTMTagger` 到配方模型
#
# The PyTorch tutorial's `LSTMTagger` (one sentence at a time), then the toolkit's `SequenceTagger` with batches,
# a per-tag report and a confusion matrix. Bundled sample `data/pos/`; set `LSTM_NLP_TUTORIAL_DATA` for UD English-EWT.
#
# 先是 PyTorch 教程里的 `LSTMTagger`（一次一句），再是工具包的 `SequenceTagger`（批量训练），
# 最后给出每个词性的报告和混淆矩阵。
# 默认使用自带样本 `data/pos/`；设置 `LSTM_NLP_TUTORIAL_DATA` 可改用 UD English-EWT。

# %%
import os
from collections import Counter, defaultdict

import matplotlib.pyplot as plt
import torch
from torch import nn

from lstm_nlp.data import Vocab, read_conllu
from lstm_nlp.models import SequenceTagger, TaggerConfig
from lstm_nlp.pipelines import TaggingPipeline
from lstm_nlp.training import Trainer, TrainerConfig, seed_everything

seed_everything(0)
if os.environ.get("LSTM_NLP_TUTORIAL_DATA"):
    EWT = os.path.join(os.environ["LSTM_NLP_TUTORIAL_DATA"], "ud_english_ewt")
    TRAIN, DEV = f"{EWT}/en_ewt-ud-train.conllu", f"{EWT}/en_ewt-ud-dev.conllu"
else:
    TRAIN, DEV = "data/pos/train.conllu", "data/pos/dev.conllu"
EPOCHS, HIDDEN = 4, 64     # change these / 可以改这些

train, dev = read_conllu(TRAIN), read_conllu(DEV)
words = Vocab.build(train["tokens"], min_freq=1)
labels = Vocab.build_labels(train["tags"])
print(f"{len(train)} train / {len(dev)} dev sentences, {len(words)} words, tags: {labels.itos}")

# %% [markdown]
# ## Baselines: one tag for every word, each word's most frequent tag / 基线：所有词同一个词性；每个词最常见的词性
#
# The bundled sample is small and synthetic: a word's most frequent tag is nearly always right on it, so the
# BiLSTM is asserted to beat the one-tag baseline here; on UD English-EWT the lookup scores far lower.
#
# 自带样本小而且是合成的：在它上面“每个词最常见的词性”几乎总是对的，所以这里只断言模型优于“所有词同一个词性”；
# 在 UD English-EWT 上查表基线要低得多。

# %%
seen = defaultdict(Counter)
for tokens, tags in zip(train["tokens"], train["tags"]):
    for token, tag in zip(tokens, tags):
        seen[token][tag] += 1
overall = Counter(t for tags in train["tags"] for t in tags).most_common(1)[0][0]
gold = [t for tags in dev["tags"] for t in tags]
guess = [seen[w].most_common(1)[0][0] if w in seen else overall for tokens in dev["tokens"] for w in tokens]
lookup = sum(g == p for g, p in zip(gold, guess)) / len(gold)
baseline = sum(g == overall for g in gold) / len(gold)
print(f"one tag ({overall}) for every word: {baseline:.3f}; each word's most frequent tag: {lookup:.3f}")

# %% [markdown]
# ## The toy `LSTMTagger` / 玩具 `LSTMTagger`
#
# The tutorial's model: embedding -> LSTM -> linear -> log-softmax, trained one sentence at a time with SGD.
#
# 教程中的模型：词嵌入 -> LSTM -> 线性层 -> log-softmax，用 SGD 一次训练一句。

# %%
class LSTMTagger(nn.Module):
    def __init__(self, embedding_dim, hidden_dim, vocab_size, tagset_size):
        super().__init__()
        self.word_embeddings = nn.Embedding(vocab_size, embedding_dim)
        self.lstm = nn.LSTM(embedding_dim, hidden_dim)
        self.hidden2tag = nn.Linear(hidden_dim, tagset_size)

    def forward(self, sentence):                                  # sentence: LongTensor[seq]
        embeds = self.word_embeddings(sentence)                   # [seq, E]
        lstm_out, _ = self.lstm(embeds.view(len(sentence), 1, -1))  # [seq, 1, H]
        return torch.log_softmax(self.hidden2tag(lstm_out.view(len(sentence), -1)), dim=1)


def ids(vocab, items):
    return torch.tensor([vocab.stoi.get(x, 1) for x in items])


toy = LSTMTagger(32, HIDDEN, len(words), len(labels))
optimizer = torch.optim.SGD(toy.parameters(), lr=0.1)
for _epoch in range(1):
    for tokens, tags in zip(train["tokens"], train["tags"]):
        toy.zero_grad()
        loss = nn.functional.nll_loss(toy(ids(words, tokens)), ids(labels, tags))
        loss.backward()
        optimizer.step()
with torch.no_grad():
    toy_pred = [labels.itos[i] for tokens in dev["tokens"] for i in toy(ids(words, tokens)).argmax(-1).tolist()]
toy_accuracy = sum(g == p for g, p in zip(gold, toy_pred)) / len(gold)
print(f"toy LSTMTagger, 1 epoch: {toy_accuracy:.3f}")

# %% [markdown]
# ## The recipe's model / 配方中的模型
#
# `SequenceTagger`: a BiLSTM over length-bucketed batches, the best dev epoch kept.
#
# `SequenceTagger`：在按长度分桶的批次上运行双向 LSTM，并保留验证集上最好的一轮。

# %%
model = SequenceTagger(TaggerConfig(vocab_size=len(words), num_labels=len(labels), embedding_dim=32,
                                    hidden_size=HIDDEN, num_layers=1, dropout=0.2))
pipeline = TaggingPipeline(model, words, labels)
loader = pipeline.loader(pipeline.encode(train), batch_size=16, shuffle=True)
Trainer(model, TrainerConfig(epochs=EPOCHS, lr=5e-3, metric="accuracy", device="cpu", progress=False),
        train_loader=loader, evaluate=lambda m: pipeline.evaluate(dev)).fit()
metrics = pipeline.evaluate(dev)
print(metrics["report"])
assert metrics["accuracy"] > baseline + 0.3, (metrics["accuracy"], baseline)
print(pipeline.predict_text(["The dog sleeps ."]))

# %% [markdown]
# ## Comparison and confusion matrix / 对比与混淆矩阵

# %%
print(f"{'model':<36}{'dev accuracy':>12}")
for name, value in (("one tag for every word", baseline), ("each word's most frequent tag", lookup),
                    ("toy LSTMTagger", toy_accuracy), ("SequenceTagger (BiLSTM)", metrics["accuracy"])):
    print(f"{name:<36}{value:>12.3f}")
confusion = metrics["confusion"]
matrix = torch.tensor(confusion["matrix"], dtype=torch.float)
assert int(matrix.sum()) == len(gold)
fig, ax = plt.subplots(figsize=(6, 5))
ax.imshow((matrix / matrix.sum(1, keepdim=True).clamp(min=1)).numpy(), cmap="Blues")
ax.set_xticks(range(len(confusion["labels"])), confusion["labels"], rotation=90)
ax.set_yticks(range(len(confusion["labels"])), confusion["labels"])
ax.set_xlabel("predicted")
ax.set_ylabel("gold")
plt.tight_layout()
plt.show()
