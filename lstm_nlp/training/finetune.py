"""Fine-tuning a warm-started model the ULMFiT way: discriminative learning rates, gradual unfreezing.

Lower layers hold more general knowledge (the embedding most of all) and should move less:
group ``k`` counted from the top gets ``lr / decay ** k`` (Howard & Ruder 2018 use ``decay = 2.6``).
The groups are, bottom to top: the embedding, each encoder layer (both directions), everything else
(pooling, head). The slanted triangular schedule is the Trainer's ``scheduler="linear"`` with
``warmup_steps`` about a tenth of the run: a short linear rise, then a long linear decay.

:func:`use_discriminative_lrs` swaps a built :class:`~lstm_nlp.training.Trainer`'s optimizer for one
with these groups (same kind and options, same schedule); :func:`use_gradual_unfreezing` trains
only the top group in the first epoch, the top two in the second, and so on. Call them before ``fit``.
"""

from __future__ import annotations

import logging

from torch import nn

from lstm_nlp.errors import ConfigError
from lstm_nlp.modules.encoder import RecurrentEncoder
from lstm_nlp.training.optim import LRSchedule, build_optimizer

logger = logging.getLogger("lstm_nlp")


def layer_groups(model: nn.Module) -> list[list[nn.Parameter]]:
    """Trainable parameters of ``model`` in groups, bottom to top: embedding, encoder layer 0, 1, ..., the rest.

    ``model`` needs ``embedding`` and a registered ``encoder`` (its ``rnn``: an ``nn.LSTM`` or
    ``nn.GRU``) like the classifier and tagger.

    Raises:
        ConfigError: ``model`` lacks them.
    """
    encoder = getattr(model, "encoder", None)
    embedding = getattr(model, "embedding", None)
    if not isinstance(encoder, RecurrentEncoder) or not isinstance(embedding, nn.Module):
        raise ConfigError(f"discriminative learning rates need a model with embedding and a registered encoder, "
                          f"got {type(model).__name__}")
    rnn = encoder.rnn
    seen: set[int] = set()

    def take(params) -> list[nn.Parameter]:
        group = [p for p in params if p.requires_grad and id(p) not in seen]
        seen.update(id(p) for p in group)
        return group

    groups = [take(embedding.parameters())]
    for layer in range(rnn.num_layers):
        groups.append(take(p for name, p in rnn.named_parameters() if f"_l{layer}" in name))
    groups.append(take(model.parameters()))
    return groups


def use_discriminative_lrs(trainer, decay: float = 2.6) -> list[float]:
    """Gives ``trainer`` an optimizer whose layer groups (see :func:`layer_groups`) get ``lr / decay ** k``.

    Args:
        trainer: A :class:`~lstm_nlp.training.Trainer` before ``fit`` (and before any resume: a
            checkpoint written with these groups resumes into a trainer set up the same way).
        decay: Ratio between the learning rates of neighbouring groups (1: all the same).

    Returns:
        The groups' peak learning rates, bottom to top.

    Raises:
        ConfigError: ``decay < 1``, or a model without embedding/a registered encoder.
    """
    if decay < 1:
        raise ConfigError(f"the learning-rate decay per layer group must be >= 1, got {decay}")
    config = trainer.config
    groups = [g for g in layer_groups(trainer.model) if g]
    rates = [config.lr / decay ** (len(groups) - 1 - k) for k in range(len(groups))]
    optimizer = build_optimizer(trainer.model, config)  # the configured kind and options...
    optimizer.param_groups.clear()
    optimizer.state.clear()
    defaults = dict(optimizer.defaults)
    for params, lr in zip(groups, rates):  # ...over the layer groups
        optimizer.add_param_group({**defaults, "params": params, "lr": lr, "initial_lr": lr})
    trainer.optimizer = optimizer
    metric_mode = config.mode if trainer.evaluate is not None else "min"
    trainer.schedule = LRSchedule(optimizer, config, total_steps=_total_steps(trainer), metric_mode=metric_mode)
    return rates


def use_gradual_unfreezing(trainer) -> int:
    """Makes ``trainer`` train the top layer group only in epoch 1, the top two in epoch 2, ... (ULMFiT).

    The groups are those of :func:`layer_groups`; from the epoch that equals their number on, all
    train. Parameters frozen before (e.g. ``--freeze-vectors``) stay frozen. A resumed run freezes
    as the interrupted one did (the epoch decides).

    Returns:
        The number of groups (the first epoch in which everything trains).

    Raises:
        ConfigError: under ``torchrun`` (DDP needs the same trained parameters all run long), or a model
            without embedding/a registered encoder.
    """
    if trainer.dist.enabled:
        raise ConfigError("gradual unfreezing does not run under torchrun: DDP needs the same trained parameters "
                          "all run long")
    groups = [g for g in layer_groups(trainer.model) if g]

    def unfreeze(epoch: int) -> None:
        for depth, params in enumerate(reversed(groups)):  # depth 0: the top group
            for param in params:
                param.requires_grad_(depth < epoch)
        if epoch <= len(groups):
            logger.info("gradual unfreezing: epoch %d trains the top %d of %d layer groups", epoch,
                        min(epoch, len(groups)), len(groups))

    trainer.on_epoch_start = unfreeze
    return len(groups)


def _total_steps(trainer) -> int:
    """Optimizer steps of the whole run, as the Trainer computes them for its schedule."""
    try:
        steps_per_epoch = -(-len(trainer.train_loader) // trainer.config.grad_accum)
    except TypeError:
        steps_per_epoch = 0
    return steps_per_epoch * trainer.config.epochs
