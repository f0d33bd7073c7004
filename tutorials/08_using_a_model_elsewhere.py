# %% [markdown]
# # 8. Using a model elsewhere / 在其他地方使用模型
#
# A saved bundle three ways: as a spaCy pipeline component, exported to ONNX for onnxruntime, and through
# `lstm-nlp predict` on the command line. All three give the same tags.
#
# 同一个保存好的模型包的三种用法：作为 spaCy 管道组件、导出为 ONNX 交给 onnxruntime 运行，以及通过命令行
# `lstm-nlp predict`。三者给出相同的标签。

# %%
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import spacy

from lstm_nlp.data import Vocab, read_conllu
from lstm_nlp.models import SequenceTagger, TaggerConfig
from lstm_nlp.pipelines import TaggingPipeline, load_pipeline
from lstm_nlp.training import Trainer, TrainerConfig, seed_everything

seed_everything(0)
EPOCHS = 2     # change this / 可以改这个

# %% [markdown]
# ## Train and save a small POS tagger / 训练并保存一个小型词性标注器

# %%
train, dev = read_conllu("data/pos/train.conllu"), read_conllu("data/pos/dev.conllu")
words, labels = Vocab.build(train["tokens"], min_freq=1), Vocab.build_labels(train["tags"])
model = SequenceTagger(TaggerConfig(vocab_size=len(words), num_labels=len(labels), embedding_dim=32,
                                    hidden_size=32, num_layers=1))
pipeline = TaggingPipeline(model, words, labels)
Trainer(model, TrainerConfig(epochs=EPOCHS, lr=5e-3, metric="accuracy", device="cpu", progress=False),
        train_loader=pipeline.loader(pipeline.encode(train), batch_size=16, shuffle=True),
        evaluate=lambda m: pipeline.evaluate(dev)).fit()
folder = Path(tempfile.mkdtemp()) / "pos_model"
pipeline.save_pretrained(folder)
print(sorted(p.name for p in folder.iterdir()))
sentences = [["The", "dog", "sleeps", "."], ["A", "cat", "sat", "on", "the", "mat", "."]]
torch_tags = load_pipeline(folder).predict_tokens(sentences)

# %% [markdown]
# ## The spaCy component / spaCy 组件

# %%
nlp = spacy.blank("en")
nlp.add_pipe("lstm_nlp_tagger", config={"model": str(folder)})
doc = nlp("The dog sleeps .")
spacy_tags = [token.pos_ for token in doc]
print([(token.text, token.pos_) for token in doc])
assert spacy_tags == torch_tags[0]

# %% [markdown]
# ## ONNX export / 导出 ONNX

# %%
from lstm_nlp.export.onnx import OnnxPipeline, export_onnx  # needs the onnx extra / 需要 onnx 可选依赖

onnx_path = folder.parent / "pos.onnx"
export_onnx(load_pipeline(folder), onnx_path)
onnx_tags = OnnxPipeline(onnx_path, folder).predict_tokens(sentences)
assert onnx_tags == torch_tags
print(f"{onnx_path.name}: {onnx_path.stat().st_size / 1024:.0f} KiB, same tags as PyTorch")

# %% [markdown]
# ## `lstm-nlp predict` on the command line / 命令行 `lstm-nlp predict`

# %%
command = [sys.executable, "-m", "lstm_nlp.cli", "predict", "--model", str(folder), "--input-format", "tokens"]
text = "\n".join(" ".join(s) for s in sentences) + "\n"
start = time.perf_counter()
completed = subprocess.run(command, input=text, capture_output=True, text=True, check=True)
cli_seconds = time.perf_counter() - start
print(completed.stdout)
cli_tags = [[pair.rsplit("/", 1)[1] for pair in line.split()] for line in completed.stdout.splitlines()]
assert cli_tags == torch_tags

# %% [markdown]
# ## Summary table / 小结表

# %%
print(f"{'way':<24}{'tags of sentence 2'}")
for name, tags in (("PyTorch pipeline", torch_tags[1]), ("ONNX (onnxruntime)", onnx_tags[1]),
                   ("lstm-nlp predict", cli_tags[1])):
    print(f"{name:<24}{' '.join(tags)}")
print(f"lstm-nlp predict took {cli_seconds:.1f} s, start-up included")
