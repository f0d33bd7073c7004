"""Training: the Trainer, checkpoints, schedules, distributed helpers and plots.

Devices (:mod:`lstm_nlp.device`) and evaluation metrics (:mod:`lstm_nlp.metrics`) live one floor
down, so that prediction never imports the training machinery.
"""

from lstm_nlp.training.checkpoint import CheckpointManager, load_checkpoint
from lstm_nlp.training.config import TrainerConfig
from lstm_nlp.training.distributed import get_rank, get_world_size, is_main_process
from lstm_nlp.training.interrupts import TrainingInterrupted
from lstm_nlp.training.trainer import NonFiniteLossError, Trainer, TrainResult, seed_everything

__all__ = ["CheckpointManager", "NonFiniteLossError", "TrainResult", "Trainer", "TrainerConfig", "TrainingInterrupted",
           "get_rank", "get_world_size", "is_main_process", "load_checkpoint", "seed_everything"]
