"""Training: the Trainer, checkpoints, schedules, devices, distributed helpers, plots and metrics."""

from lstm_nlp.training.checkpoint import CheckpointManager, load_checkpoint
from lstm_nlp.training.config import TrainerConfig
from lstm_nlp.training.device import move_batch, resolve_device
from lstm_nlp.training.distributed import get_rank, get_world_size, is_main_process
from lstm_nlp.training.interrupts import TrainingInterrupted
from lstm_nlp.training.metrics import classification_metrics, tagging_metrics, token_accuracy
from lstm_nlp.training.trainer import NonFiniteLossError, Trainer, TrainResult, seed_everything

__all__ = ["CheckpointManager", "NonFiniteLossError", "TrainResult", "Trainer", "TrainerConfig", "TrainingInterrupted",
           "classification_metrics", "get_rank", "get_world_size", "is_main_process", "load_checkpoint", "move_batch",
           "resolve_device", "seed_everything", "tagging_metrics", "token_accuracy"]
