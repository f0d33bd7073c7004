"""Multi-step forecasting with a BiLSTM over a history window, against naive baselines.

    python recipes/forecast.py                          # a generated series: trend + seasonality + noise
    python recipes/forecast.py --csv load.csv --column demand --period 24 --window 48 --horizon 12

The series is cut chronologically (train | dev | test); the scaler is fitted on train only; the
model minimises L1 with Adam + weight decay, halving the learning rate when dev MAE stops
improving, and the epoch with the best dev MAE is kept. The data comes from ``--csv``/``--column``
(there are no ``--train/--dev/--test`` options). Writes OUTPUT_DIR/metrics.json
(MAE/RMSE of the model, the naive last-value and the seasonal-naive forecasts on dev and test),
report_<split>.txt, forecast.png (test forecasts vs. truth) and the bundle OUTPUT_DIR/model/
(``ForecastPipeline.from_pretrained`` or ``lstm-nlp predict --model OUTPUT_DIR/model``).
"""

from __future__ import annotations

import logging

from lstm_nlp.argtypes import FRACTION, POSITIVE_INT, PROBABILITY
from lstm_nlp.data.series import Scaler, chronological_split, read_series_csv, synthetic_series
from lstm_nlp.models import Forecaster, ForecasterConfig
from lstm_nlp.pipelines import ForecastPipeline
from lstm_nlp.recipe_kit import (
    evaluate_splits,
    finish,
    local_output_dir,
    recipe_parser,
    run,
    setup_logging,
    trainer_config,
)
from lstm_nlp.training import Trainer, seed_everything

logger = logging.getLogger("lstm_nlp")
OPTION_NAMES = {"window": "--window", "horizon": "--horizon", "val_fraction": "--dev-fraction",
                "test_fraction": "--test-fraction"}  # how split errors name them


def parse_args(argv=None):
    parser = recipe_parser(__doc__.split("\n")[0], epochs=20, batch_size=64, lr=3e-3, output_dir="runs/forecast",
                           data=False, optimizer="adam", weight_decay=1e-5, scheduler="plateau", lr_patience=1,
                           lr_factor=0.5)
    series = parser.add_argument_group("series")
    series.add_argument("--csv", help="CSV file with a header row (default: a generated series)")
    series.add_argument("--column", help="name of the CSV column to forecast (required with --csv)")
    series.add_argument("--period", type=POSITIVE_INT, default=24,
                        help="season length, for the seasonal-naive baseline")
    series.add_argument("--length", type=POSITIVE_INT, default=2000, help="length of the generated series")
    series.add_argument("--dev-fraction", type=PROBABILITY, default=0.15, help="share of the series after train: dev")
    series.add_argument("--test-fraction", type=FRACTION, default=0.15, help="share at the end of the series: test")
    model = parser.add_argument_group("model")
    model.add_argument("--window", type=POSITIVE_INT, default=48, help="history length fed to the model")
    model.add_argument("--horizon", type=POSITIVE_INT, default=12, help="future values predicted at once")
    model.add_argument("--hidden-size", type=POSITIVE_INT, default=32, help="LSTM size per direction")
    model.add_argument("--num-layers", type=POSITIVE_INT, default=1, help="stacked LSTM layers")
    model.add_argument("--dropout", type=PROBABILITY, default=0.0,
                       help="dropout between LSTM layers and before the head")
    args = parser.parse_args(argv)
    if args.csv and not args.column:
        parser.error("--csv needs --column (the name of the column to forecast)")
    if args.dev_fraction + args.test_fraction >= 1:  # known now: no need to read the series first
        parser.error(f"--dev-fraction {args.dev_fraction:g} and --test-fraction {args.test_fraction:g} add up to "
                     f"{args.dev_fraction + args.test_fraction:g}, which leaves nothing of the series for training "
                     "(their sum must be below 1)")
    return args


def main(argv=None) -> dict:
    setup_logging()
    args = parse_args(argv)
    seed_everything(args.seed)
    if args.csv:
        values = read_series_csv(args.csv, args.column, min_length=args.window + args.horizon)
    else:
        values = synthetic_series(args.length, period=args.period, seed=args.seed)
    split = chronological_split(values, window=args.window, horizon=args.horizon,
                                val_fraction=args.dev_fraction, test_fraction=args.test_fraction, names=OPTION_NAMES)
    logger.info("series: %d values; train %d, dev from %d, test from %d", len(values), len(split.train),
                split.val_start, split.test_start)

    config = ForecasterConfig(window=args.window, horizon=args.horizon, hidden_size=args.hidden_size,
                              num_layers=args.num_layers, dropout=args.dropout, loss="l1")
    model = Forecaster(config, scaler=Scaler.fit(split.train))  # statistics of the training period only
    if args.period > args.window:
        logger.warning("--period %d > --window %d: no seasonal-naive baseline", args.period, args.window)
    pipeline = ForecastPipeline(model, period=args.period if args.period <= args.window else None,
                                column=args.column or "value")
    # Adam + weight decay, ReduceLROnPlateau on dev MAE and best-epoch selection all come from the Trainer.
    trainer = Trainer(model, trainer_config(args, metric="mae", mode="min", throughput_unit="windows"),
                      train_loader=pipeline.loader(split.train, batch_size=args.batch_size, shuffle=True,
                                                   seed=args.seed),
                      evaluate=lambda _model: pipeline.evaluate(split.val))
    result = trainer.fit()

    metrics = evaluate_splits(pipeline.evaluate, {"dev": split.val, "test": split.test})
    plot_path = local_output_dir(args.output_dir) / "forecast.png"
    pipeline.plot(split.test, plot_path, start=split.test_start - args.window,
                  title=f"Test period: BiLSTM forecast vs. truth ({args.csv or 'generated series'})")
    finish(pipeline, metrics, args.output_dir, keys=[k for k in metrics["test"] if k.endswith(("mae", "rmse"))],
           best_epoch=result.best_epoch, plot=str(plot_path))
    return metrics


if __name__ == "__main__":
    run(main)
