# %% [markdown]
# # 5. IMDB sentiment: the torchtext.legacy tutorial rebuilt / IMDB 情感分类：重建 torchtext.legacy 教程
#
# The classic notebook used `Field`, `LabelField`, `datasets.IMDB.splits` and `BucketIterator`, which are gone
# from torchtext. Each step below shows the old line as a comment beside the lstm_nlp line that replaces it.
# It trains on the bundled sample `data/imdb/`; set `LSTM_NLP_TUTORIAL_DATA` to a folder holding `imdb/train.jsonl` and
# `imdb/test.jsonl` (or only `train.jsonl`) to train on the real reviews (minutes, not seconds).
#
# 经典教程使用的 `Field`、`LabelField`、`datasets.IMDB.splits` 和 `BucketIterator` 已从 torchtext 中移除。
# 下面每一步都把旧代码写成注释，放在替代它的 lstm_nlp 代码旁边。
# 默认使用自带样本 `data/imdb/`；设置 `LSTM_NLP_TUTORIAL_DATA` 指向包含 `imdb/train.jsonl` 和
# `imdb/test.jsonl` 的文件夹即可在真实评论上训练（需要几分钟）。

# %%
import os
from collections import Counter

import matplotlib.pyplot as plt
import torch

from lstm_nlp.data import (
    TextTokenizer,
    Vocab,
    build_vocab,
    load_text_classification,
    tokenize_dataset,
    train_validation_split,
)
from lstm_nlp.models import ClassifierConfig, TextClassifier
from lstm_nlp.pipelines import ClassificationPipeline
from lstm_nlp.training import Trainer, TrainerConfig, seed_everything

seed_everything(1)
DATA = (os.path.join(os.environ["LSTM_NLP_TUTORIAL_DATA"], "imdb") if os.environ.get("LSTM_NLP_TUTORIAL_DATA")
        else "data/imdb")
EPOCHS, HIDDEN, LR = 3, 32, 1e-2     # change these / 可以改这些

# %% [markdown]
# ## Data and fields / 数据与 Field
#
# ```python
# TEXT = data.Field(tokenize='spacy', lower=True, include_lengths=True)
# LABEL = data.LabelField(dtype=torch.float)
# train_data, test_data = datasets.IMDB.splits(TEXT, LABEL)
# train_data, valid_data = train_data.split(random_state=random.seed(SEED))
# TEXT.build_vocab(train_data, max_size=25_000)
# LABEL.build_vocab(train_data)
# ```

# %%
data = load_text_classification(f"{DATA}/train.jsonl", label_names=["neg", "pos"])  # datasets.IMDB.splits
train, valid = train_validation_split(data, fraction=0.2, seed=1)                    # train_data.split(...)
if os.path.exists(f"{DATA}/test.jsonl"):
    test = load_text_classification(f"{DATA}/test.jsonl", label_names=["neg", "pos"])
else:  # a corpus folder without its test split: hold out a fifth of train instead
    train, test = train_validation_split(train, fraction=0.2, seed=2)
tokenizer = TextTokenizer("spacy", lower=True)                     # Field(tokenize='spacy', lower=True)
train_tokens = tokenize_dataset(train, tokenizer)
words = build_vocab(train_tokens, max_size=25_000, min_freq=1)    # TEXT.build_vocab(train_data, max_size=25_000)
labels = Vocab.build_labels(list(train["label"]))                  # LABEL.build_vocab(train_data)
print(f"train {len(train)}, valid {len(valid)}, test {len(test)}; vocabulary {len(words)}; labels {labels.itos}")

# %% [markdown]
# ## Batches / 批次
#
# ```python
# train_iterator = data.BucketIterator(train_data, batch_size=64, sort_within_batch=True)
# text, text_lengths = batch.text
# ```

# %%
config = ClassifierConfig(vocab_size=len(words), num_labels=len(labels), embedding_dim=32, hidden_size=HIDDEN,
                          num_layers=2, bidirectional=True, pooling="final", dropout=0.2)
pipeline = ClassificationPipeline(TextClassifier(config), words, labels, tokenizer, label_names=["neg", "pos"])
train_examples = pipeline.encode(train_tokens)
valid_examples = pipeline.encode(valid)
batch = next(iter(pipeline.loader(train_examples, batch_size=8, shuffle=True)))    # BucketIterator
assert batch["token_ids"].shape == batch["mask"].shape                            # batch_first
assert torch.equal(batch["lengths"], batch["mask"].sum(-1))                      # include_lengths=True
print({key: tuple(value.shape) for key, value in batch.items() if torch.is_tensor(value)})

# %% [markdown]
# ## Train and evaluate / 训练与评估
#
# The tutorial's `train()` / `evaluate()` loops and `best_valid_loss` bookkeeping are `Trainer.fit()`.
#
# 教程里的 `train()`、`evaluate()` 循环和 `best_valid_loss` 记录都由 `Trainer.fit()` 完成。

# %%
trainer = Trainer(pipeline.model, TrainerConfig(epochs=EPOCHS, lr=LR, device="cpu", progress=False),
                  train_loader=pipeline.loader(train_examples, batch_size=16, shuffle=True),
                  evaluate=lambda model: pipeline.evaluate(valid_examples))
result = trainer.fit()
test_metrics = pipeline.evaluate(test)
print(test_metrics["report"])
majority = Counter(test["label"]).most_common(1)[0][1] / len(test)
print(f"test accuracy {test_metrics['accuracy']:.3f}, majority-class baseline {majority:.3f}")
assert test_metrics["accuracy"] > majority + 0.1   # the model beats always guessing one class

# %% [markdown]
# ## Predict your own review / 预测你自己的评论
#
# ```python
# predict_sentiment(model, "This film is great")
# ```

# %%
reviews = ["This film is great", "This film is terrible", "A wonderful story, I loved the acting.",
           "Boring and far too long."]  # add your own / 加上你自己的评论
predictions = pipeline.predict(reviews)
assert len(predictions) == len(reviews) and all(0.5 <= p <= 1 for _, p in predictions)
for review, (label, probability) in zip(reviews, predictions):
    print(f"{label}  {probability:.3f}  {review}")
scores = [p if label == "pos" else 1 - p for label, p in predictions]
plt.figure(figsize=(6, 2.5))
plt.barh(range(len(reviews)), scores, color=["tab:green" if s > 0.5 else "tab:red" for s in scores])
plt.yticks(range(len(reviews)), reviews)
plt.xlim(0, 1)
plt.xlabel("P(pos)")
plt.tight_layout()
plt.show()
