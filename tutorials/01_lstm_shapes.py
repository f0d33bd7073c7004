# %% [markdown]
# # 1. LSTM shapes / LSTM 的张量形状
#
# One lesson: what goes into `nn.LSTM`, what comes out, and how many parameters it holds.
# Every claim below is an `assert`; change a size in the first cell and run all cells again.
#
# 一课：`nn.LSTM` 的输入、输出和参数个数。下面每一个结论都用 `assert` 检查；改动第一个单元格里的尺寸，再运行全部单元格。

# %%
import torch
from torch import nn

torch.manual_seed(0)
BATCH, SEQ, INPUT, HIDDEN = 3, 5, 4, 6   # change these / 可以改这些

# %% [markdown]
# ## Inputs and outputs, `batch_first` / 输入与输出，`batch_first`

# %%
x = torch.randn(SEQ, BATCH, INPUT)                 # default layout: [seq, batch, feature]
lstm = nn.LSTM(INPUT, HIDDEN)
output, (h_n, c_n) = lstm(x)
assert output.shape == (SEQ, BATCH, HIDDEN)
assert h_n.shape == c_n.shape == (1, BATCH, HIDDEN)    # [num_layers * num_directions, batch, H]

lstm_bf = nn.LSTM(INPUT, HIDDEN, batch_first=True)
lstm_bf.load_state_dict(lstm.state_dict())
output_bf, (h_bf, _) = lstm_bf(x.transpose(0, 1))  # [batch, seq, feature]
assert output_bf.shape == (BATCH, SEQ, HIDDEN)
assert h_bf.shape == (1, BATCH, HIDDEN)             # h_n is NOT batch-first / h_n 不受 batch_first 影响
assert torch.allclose(output_bf.transpose(0, 1), output, atol=1e-6)

# %% [markdown]
# ## Parameters: why 4x / 参数：为什么是 4 倍
#
# Each weight stacks four gate blocks (input, forget, cell, output): `weight_ih` is `[4H, input]`.
#
# 每个权重矩阵按行堆叠四个门（输入门、遗忘门、候选单元、输出门）：`weight_ih` 的形状是 `[4H, input]`。

# %%
shapes = {name: tuple(p.shape) for name, p in lstm.named_parameters()}
assert shapes == {"weight_ih_l0": (4 * HIDDEN, INPUT), "weight_hh_l0": (4 * HIDDEN, HIDDEN),
                  "bias_ih_l0": (4 * HIDDEN,), "bias_hh_l0": (4 * HIDDEN,)}
count = sum(p.numel() for p in lstm.parameters())
assert count == 4 * (HIDDEN * INPUT + HIDDEN * HIDDEN + 2 * HIDDEN)
print(shapes, count)

# %% [markdown]
# ## Layers and directions: the `h_n` layout / 层数与方向：`h_n` 的排列
#
# `h_n[layer * num_directions + direction]`; the last layer's forward state is `h_n[-2]`, its backward state `h_n[-1]`.
#
# `h_n` 的下标是 `层 * 方向数 + 方向`；最后一层的前向状态是 `h_n[-2]`，反向状态是 `h_n[-1]`。

# %%
LAYERS = 2
bi = nn.LSTM(INPUT, HIDDEN, num_layers=LAYERS, bidirectional=True)
out2, (h2, c2) = bi(x)
assert out2.shape == (SEQ, BATCH, 2 * HIDDEN)            # [forward ; backward]
assert h2.shape == (LAYERS * 2, BATCH, HIDDEN)
layer_input = {name: p.shape[1] for name, p in bi.named_parameters() if name.startswith("weight_ih")}
assert layer_input == {"weight_ih_l0": INPUT, "weight_ih_l0_reverse": INPUT,
                       "weight_ih_l1": 2 * HIDDEN, "weight_ih_l1_reverse": 2 * HIDDEN}

# %% [markdown]
# ## `output[-1]` vs `h_n[-1]` / `output[-1]` 与 `h_n[-1]`
#
# One direction: the same. Two directions: `output[-1]` holds the forward state after the last step but the
# backward state after only *one* step; the backward summary of the whole sequence is `output[0]`'s second half.
#
# 单向时两者相同。双向时 `output[-1]` 的后半部分只是反向 LSTM 走了一步的状态；整句的反向表示在 `output[0]` 的后半部分。

# %%
assert torch.allclose(output[-1], h_n[-1], atol=1e-6)           # one direction
forward_last, backward_last = out2[-1, :, :HIDDEN], out2[0, :, HIDDEN:]
assert torch.allclose(forward_last, h2[-2], atol=1e-6)
assert torch.allclose(backward_last, h2[-1], atol=1e-6)
assert not torch.allclose(out2[-1, :, HIDDEN:], h2[-1], atol=1e-3)  # the tutorial bug / 常见错误

# %% [markdown]
# ## Summary table / 小结表

# %%
rows = [("nn.LSTM(I, H)", tuple(output.shape), tuple(h_n.shape), count),
        ("batch_first=True", tuple(output_bf.shape), tuple(h_bf.shape), count),
        (f"num_layers={LAYERS}, bidirectional", tuple(out2.shape), tuple(h2.shape),
         sum(p.numel() for p in bi.parameters()))]
print(f"{'module':<32}{'output':<16}{'h_n':<14}{'parameters':>10}")
for name, out_shape, h_shape, n in rows:
    print(f"{name:<32}{str(out_shape):<16}{str(h_shape):<14}{n:>10}")
