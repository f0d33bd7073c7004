# %% [markdown]
# # 4. Regression and forecasting / 回归与时间序列预测
#
# A seasonal series, the window -> horizon BiLSTM (`lstm_nlp.models.Forecaster`) trained with L1 loss and
# `ReduceLROnPlateau`, compared with two naive baselines, and the forecast plotted.
#
# 一个带季节性的序列，用 L1 损失和 `ReduceLROnPlateau` 训练“窗口 -> 预测步长”的双向 LSTM
# （`lstm_nlp.models.Forecaster`），与两个朴素基线比较，并画出预测结果。

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch

from lstm_nlp.data.series import Scaler, chronological_split, synthetic_series
from lstm_nlp.models import Forecaster, ForecasterConfig
from lstm_nlp.pipelines import ForecastPipeline
from lstm_nlp.training import Trainer, TrainerConfig, seed_everything

seed_everything(0)
PERIOD, WINDOW, HORIZON = 24, 48, 12     # change these / 可以改这些
EPOCHS, HIDDEN = 8, 32

# %% [markdown]
# ## The series, cut in time order / 按时间顺序切分序列
#
# Trend + daily seasonality + noise; train | dev | test without shuffling, the scaler fitted on train only.
#
# 趋势 + 日周期 + 噪声；训练 | 验证 | 测试 按时间顺序切分，不打乱，标准化只用训练段的统计量。

# %%
values = synthetic_series(1500, period=PERIOD, seed=0)
split = chronological_split(values, window=WINDOW, horizon=HORIZON)
print(f"{len(values)} values: train {len(split.train)}, dev from {split.val_start}, test from {split.test_start}")
plt.figure(figsize=(8, 2.5))
plt.plot(values, lw=0.7)
plt.axvline(split.val_start, color="k", ls="--")
plt.axvline(split.test_start, color="k", ls="--")
plt.title("series: train | dev | test")
plt.show()

# %% [markdown]
# ## The model and the training loop / 模型与训练
#
# `loss="l1"`; the `Trainer` runs Adam, `ReduceLROnPlateau` on dev MAE (`scheduler="plateau"`) and keeps the best epoch.
#
# `loss="l1"`；`Trainer` 使用 Adam，根据验证集 MAE 调用 `ReduceLROnPlateau`（`scheduler="plateau"`），并保留最好的一轮。

# %%
config = ForecasterConfig(window=WINDOW, horizon=HORIZON, hidden_size=HIDDEN, loss="l1")
model = Forecaster(config, scaler=Scaler.fit(split.train))
pipeline = ForecastPipeline(model, period=PERIOD)
trainer = Trainer(model, TrainerConfig(epochs=EPOCHS, lr=3e-3, optimizer="adam", weight_decay=1e-5,
                                       scheduler="plateau", lr_patience=1, lr_factor=0.5, metric="mae",
                                       mode="min", device="cpu", progress=False, throughput_unit="windows"),
                  train_loader=pipeline.loader(split.train, batch_size=64, shuffle=True),
                  evaluate=lambda _model: pipeline.evaluate(split.val))
result = trainer.fit()

# %% [markdown]
# ## Against the naive baselines / 与朴素基线比较
#
# "naive last" repeats the last value; "seasonal naive" repeats the last period.
#
# “naive last” 重复最后一个值；“seasonal naive” 重复上一个周期。

# %%
test = pipeline.evaluate(split.test)
print(test["report"])
assert test["mae"] < test["naive_last_mae"]
assert test["mae"] < test["seasonal_naive_mae"]

# %% [markdown]
# ## The forecast, plotted / 预测结果图

# %%
history = torch.as_tensor(split.test[:WINDOW], dtype=torch.float32)[None]
forecast = pipeline.predict(history)[0].numpy()
truth = split.test[WINDOW:WINDOW + HORIZON]
assert forecast.shape == (HORIZON,)
plt.figure(figsize=(8, 3))
plt.plot(np.arange(WINDOW), split.test[:WINDOW], label="history")
plt.plot(np.arange(WINDOW, WINDOW + HORIZON), truth, label="truth")
plt.plot(np.arange(WINDOW, WINDOW + HORIZON), forecast, "--", label="forecast")
plt.plot(np.arange(WINDOW, WINDOW + HORIZON), split.test[WINDOW - PERIOD:WINDOW - PERIOD + HORIZON], ":",
         label="seasonal naive")
plt.legend()
plt.show()
