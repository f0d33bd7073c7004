"""Discriminative learning rates: layer groups bottom to top, lr / decay ** k, schedule kept."""

from __future__ import annotations

import pytest
import torch

from lstm_nlp.errors import ConfigError
from lstm_nlp.models import ClassifierConfig, TextClassifier
from lstm_nlp.training import Trainer, TrainerConfig
from lstm_nlp.training.finetune import layer_groups, use_discriminative_lrs, use_gradual_unfreezing


def classifier(layers=2):
    return TextClassifier(ClassifierConfig(vocab_size=20, num_labels=2, embedding_dim=4, hidden_size=3,
                                           num_layers=layers))


def batches():
    ids = torch.randint(2, 20, (4, 5))
    return [{"token_ids": ids, "mask": torch.ones_like(ids, dtype=torch.bool), "labels": torch.tensor([0, 1, 0, 1])}]


def test_groups_cover_every_parameter_once_bottom_to_top():
    model = classifier()
    groups = layer_groups(model)
    assert len(groups) == 4  # embedding, LSTM layer 0, LSTM layer 1, head
    ids = [{id(p) for p in g} for g in groups]
    assert ids[0] == {id(model.embedding.embedding.weight)}
    assert sum(len(g) for g in ids) == len(set().union(*ids)) == len(list(model.parameters()))
    assert id(model.encoder.lstm.weight_ih_l1_reverse) in ids[2] and id(model.output.weight) in ids[3]


def test_trainer_gets_decayed_rates_and_the_linear_schedule_scales_each(tmp_path):
    model = classifier()
    config = TrainerConfig(epochs=2, lr=0.01, scheduler="linear", warmup_steps=1, progress=False, device="cpu")
    trainer = Trainer(model, config, train_loader=batches())
    rates = use_discriminative_lrs(trainer, 2.0)
    assert rates == pytest.approx([0.00125, 0.0025, 0.005, 0.01])
    assert [g["lr"] for g in trainer.optimizer.param_groups] == pytest.approx([r / 1 for r in rates])
    before = model.embedding.embedding.weight.detach().clone()
    trainer.fit()
    assert not torch.equal(before, model.embedding.embedding.weight)
    assert [g["lr"] for g in trainer.optimizer.param_groups] == pytest.approx([0.0] * 4)  # decayed to 0 at the end


def test_frozen_parameters_stay_out_and_bad_input_is_refused():
    model = classifier(layers=1)
    model.embedding.embedding.weight.requires_grad_(False)
    trainer = Trainer(model, TrainerConfig(progress=False, device="cpu"), train_loader=batches())
    assert len(use_discriminative_lrs(trainer, 2.6)) == 2  # the empty embedding group is dropped
    with pytest.raises(ConfigError, match=">= 1"):
        use_discriminative_lrs(trainer, 0.5)
    with pytest.raises(ConfigError, match="embedding and a registered encoder"):
        layer_groups(torch.nn.Linear(2, 2))


def test_gradual_unfreezing_trains_one_more_group_each_epoch_from_the_top():
    model = classifier()  # groups: embedding, LSTM layer 0, LSTM layer 1, head
    trainer = Trainer(model, TrainerConfig(epochs=4, lr=0.05, progress=False, device="cpu"), train_loader=batches())
    assert use_gradual_unfreezing(trainer) == 4
    groups = layer_groups(model)
    moved_per_epoch = []
    original_epoch_start = trainer.on_epoch_start

    def record(epoch):
        if epoch > 1:
            moved_per_epoch.append([not all(torch.equal(p, s) for p, s in zip(g, snap)) for g, snap in
                                    zip(groups, snapshot)])
        original_epoch_start(epoch)
        snapshot[:] = [[p.detach().clone() for p in g] for g in groups]

    snapshot: list = []
    trainer.on_epoch_start = record
    trainer.fit()
    # After epoch 1 only the head moved, after epoch 2 the head and LSTM layer 1, after epoch 3 all but the embedding.
    assert moved_per_epoch == [[False, False, False, True], [False, False, True, True], [False, True, True, True]]
    assert all(p.requires_grad for p in model.parameters())  # epoch 4 trained everything
