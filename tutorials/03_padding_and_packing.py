# %% [markdown]
# # 3. Padding and packing / 填充与打包
#
# Why an LSTM over a padded batch gives wrong states without packing, what `pack_padded_sequence` fixes,
# and the toolkit's dense path (`LSTMEncoder(impl="dense")`) that gives the packed results without packing.
#
# 为什么不打包时填充会让 LSTM 的状态出错，`pack_padded_sequence` 解决了什么，以及本工具包的稠密路径
# （`LSTMEncoder(impl="dense")`）如何不打包也得到相同结果。

# %%
import time

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from lstm_nlp.modules import LSTMEncoder

torch.manual_seed(0)
INPUT, HIDDEN = 8, 16
lengths = torch.tensor([7, 3, 5, 1])        # change these / 可以改这些
BATCH, SEQ = len(lengths), int(lengths.max())
x = torch.randn(BATCH, SEQ, INPUT)
mask = torch.arange(SEQ)[None, :] < lengths[:, None]
x = x * mask[..., None]                     # zeros at padding / 填充位置为零

# %% [markdown]
# ## Padding alone / 只填充
#
# The LSTM keeps stepping over the padding, so `h_n` is the state after `SEQ` steps, not after each row's last word.
#
# LSTM 会继续在填充位置上计算，所以 `h_n` 是走完 `SEQ` 步后的状态，而不是每句最后一个词处的状态。

# %%
lstm = nn.LSTM(INPUT, HIDDEN, batch_first=True, bidirectional=True)
with torch.no_grad():
    out_pad, (h_pad, _) = lstm(x)
    packed_out, (h_packed, _) = lstm(pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False))
    out_packed, _ = pad_packed_sequence(packed_out, batch_first=True, total_length=SEQ)
    # Truth: each sentence on its own, no padding at all / 真值：每句单独计算，完全不填充
    h_alone = torch.stack([lstm(x[b:b + 1, :lengths[b]])[1][0][:, 0] for b in range(BATCH)], dim=1)

assert torch.allclose(h_packed, h_alone, atol=1e-6)
full = lengths == SEQ
assert torch.allclose(h_pad[:, full], h_alone[:, full], atol=1e-6)      # rows without padding agree
assert not torch.allclose(h_pad[:, ~full], h_alone[:, ~full], atol=1e-3)  # padded rows do not

# %% [markdown]
# ## The toolkit's dense path / 工具包的稠密路径
#
# `LSTMEncoder` takes the padded batch and a mask; its dense path gives the packed results (to 1e-6) without packing.
#
# `LSTMEncoder` 接收填充后的批次和掩码；稠密路径不打包也能得到与打包相同的结果（误差 1e-6 以内）。

# %%
encoders = {impl: LSTMEncoder(INPUT, HIDDEN, bidirectional=True, impl=impl) for impl in ("packed", "dense")}
for encoder in encoders.values():
    encoder.lstm.load_state_dict(lstm.state_dict())
with torch.no_grad():
    results = {impl: encoder(x, mask=mask) for impl, encoder in encoders.items()}
for result in results.values():
    assert torch.allclose(result.h_n, h_alone, atol=1e-6)
    assert torch.allclose(result.outputs, out_packed, atol=1e-6)
print("dense == packed == one sentence at a time, max |diff| =",
      float((results["dense"].h_n - h_alone).abs().max()))

# %% [markdown]
# ## Timing table / 计时表
#
# A batch of IMDB-like lengths, forward and backward, one CPU thread.
#
# 一个长度类似 IMDB 评论的批次，前向加反向，单个 CPU 线程。

# %%
torch.set_num_threads(1)
B, T = 32, 200
big_lengths = torch.randint(T // 4, T + 1, (B,))
big_lengths[0] = T
big_x = torch.randn(B, T, INPUT)
big_mask = torch.arange(T)[None, :] < big_lengths[:, None]


def seconds(fn, repeats=3):
    fn()
    start = time.perf_counter()
    for _ in range(repeats):
        fn()
    return (time.perf_counter() - start) / repeats


def padded():
    lstm(big_x)[0].sum().backward()


def packed():
    out, _ = lstm(pack_padded_sequence(big_x, big_lengths, batch_first=True, enforce_sorted=False))
    out.data.sum().backward()


def dense():
    encoders["dense"](big_x, mask=big_mask).outputs.sum().backward()


timings = {"padded only (wrong states)": seconds(padded),
           "pack_padded_sequence": seconds(packed),
           "LSTMEncoder dense": seconds(dense)}
print(f"{'method':<48}{'ms per batch':>14}")
for name, s in timings.items():
    print(f"{name:<48}{1000 * s:>14.1f}")
assert all(s > 0 for s in timings.values())
