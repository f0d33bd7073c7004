"""Training: the Trainer, devices and metrics."""

from lstm_nlp.training.device import move_batch, resolve_device
from lstm_nlp.training.metrics import tagging_metrics, token_accuracy
from lstm_nlp.training.trainer import Trainer, TrainerConfig, TrainResult, seed_everything

__all__ = ["TrainResult", "Trainer", "TrainerConfig", "move_batch", "resolve_device", "seed_everything",
           "tagging_metrics", "token_accuracy"]
