# %% [markdown]
# # 2. An LSTM cell from the equations / 从公式写出 LSTM 单元
#
# Step an `LSTMCell` by hand, compare with `lstm_nlp.modules.ReferenceLSTM` and `nn.LSTM` to 1e-6,
# then watch two classic mistakes fail.
#
# 手工逐步计算 `LSTMCell`，与 `lstm_nlp.modules.ReferenceLSTM` 和 `nn.LSTM` 比较（误差 1e-6 以内），
# 再看两个常见错误如何失败。

# %%
import matplotlib.pyplot as plt
import torch
from torch import nn

from lstm_nlp.modules import ReferenceLSTM, lstm_cell

torch.manual_seed(0)
BATCH, SEQ, INPUT, HIDDEN = 2, 7, 3, 5   # change these / 可以改这些

# %% [markdown]
# ## The gate equations / 门控公式
#
# ```
# i = σ(x W_ii + h W_hi + b_i)      input gate / 输入门
# f = σ(x W_if + h W_hf + b_f)      forget gate / 遗忘门
# g = tanh(x W_ig + h W_hg + b_g)   cell candidate / 候选单元
# o = σ(x W_io + h W_ho + b_o)      output gate / 输出门
# c_t = f * c_{t-1} + i * g
# h_t = o * tanh(c_t)
# ```

# %%
cell = nn.LSTMCell(INPUT, HIDDEN)
x = torch.randn(SEQ, BATCH, INPUT)


def my_step(x_t, h, c, w_ih, w_hh, b_ih, b_hh):
    gates = x_t @ w_ih.T + b_ih + h @ w_hh.T + b_hh
    i, f, g, o = gates.chunk(4, dim=-1)                 # PyTorch's order: i, f, g, o
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c), c


params = (cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)
h = c = torch.zeros(BATCH, HIDDEN)
h_ref = c_ref = torch.zeros(BATCH, HIDDEN)
with torch.no_grad():
    for t in range(SEQ):
        h, c = my_step(x[t], h, c, *params)
        h_ref, c_ref = cell(x[t], (h_ref, c_ref))
        h_lib, _ = lstm_cell(x[t], h_ref, c_ref, *params)  # the library's step, same equations
assert torch.allclose(h, h_ref, atol=1e-6) and torch.allclose(c, c_ref, atol=1e-6)
print("hand-written step == nn.LSTMCell, max |diff| =", float((h - h_ref).abs().max()))

# %% [markdown]
# ## The reference LSTM equals `nn.LSTM` / 参考实现与 `nn.LSTM` 相等
#
# `ReferenceLSTM` uses `nn.LSTM`'s parameter names, so one state dict loads into both.
#
# `ReferenceLSTM` 的参数名与 `nn.LSTM` 相同，同一个 state dict 可以互相加载。

# %%
torch_lstm = nn.LSTM(INPUT, HIDDEN, num_layers=2, bidirectional=True)
reference = ReferenceLSTM(INPUT, HIDDEN, num_layers=2, bidirectional=True)
reference.load_state_dict(torch_lstm.state_dict())
with torch.no_grad():
    out_t, (h_t, c_t) = torch_lstm(x)
    out_r, (h_r, c_r) = reference(x)
for a, b in ((out_t, out_r), (h_t, h_r), (c_t, c_r)):
    assert a.shape == b.shape and torch.allclose(a, b, atol=1e-6)
print("ReferenceLSTM == nn.LSTM, max |diff| =", float((out_t - out_r).abs().max()))

# %% [markdown]
# ## Mistake 1: the gate order mixed up / 错误一：门的顺序弄错
#
# Reading the blocks as i, f, o, g (another common convention) gives a different, wrong cell.
#
# 把四个块当作 i, f, o, g（另一种常见约定）会得到一个错误的单元。

# %%
def wrong_order_step(x_t, h, c, w_ih, w_hh, b_ih, b_hh):
    gates = x_t @ w_ih.T + b_ih + h @ w_hh.T + b_hh
    i, f, o, g = gates.chunk(4, dim=-1)                  # wrong: PyTorch stores g before o
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c), c


# %% [markdown]
# ## Mistake 2: forgetting `c_t` / 错误二：忘记传递 `c_t`
#
# Passing a fresh zero cell state each step loses the memory the LSTM is for.
#
# 每一步都把单元状态重置为零，LSTM 的“记忆”就丢失了。

# %%
def run(step, keep_cell=True):
    h = c = torch.zeros(BATCH, HIDDEN)
    errors = []
    h_ok = c_ok = torch.zeros(BATCH, HIDDEN)
    with torch.no_grad():
        for t in range(SEQ):
            h, c = step(x[t], h, c if keep_cell else torch.zeros_like(c), *params)
            h_ok, c_ok = cell(x[t], (h_ok, c_ok))
            errors.append(float((h - h_ok).abs().max()))
    return errors


curves = {"correct": run(my_step), "gate order i,f,o,g": run(wrong_order_step),
          "c_t dropped": run(my_step, keep_cell=False)}
assert max(curves["correct"]) < 1e-6
assert max(curves["gate order i,f,o,g"]) > 1e-2
assert max(curves["c_t dropped"]) > 1e-3   # step 0 matches (c_0 = 0), later steps do not

# %%
print(f"{'variant':<34}" + "".join(f"t={t:<7}" for t in range(SEQ)))
for name, errs in curves.items():
    print(f"{name:<34}" + "".join(f"{e:<9.2e}" for e in errs))
fig, ax = plt.subplots(figsize=(6, 3))
for name, errs in curves.items():
    ax.semilogy(range(SEQ), [max(e, 1e-9) for e in errs], marker="o", label=name)
ax.set_xlabel("time step")
ax.set_ylabel("max |h - h_LSTMCell|")
ax.legend()
plt.show()
