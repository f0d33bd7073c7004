"""The thread count may change between steps (the CPU governor): same-seed training stays bit-identical."""

import random

import pytest
import torch
from torch.utils.data import DataLoader

import lstm_nlp.training.trainer as trainer_module
from lstm_nlp.data.batching import BucketBatchSampler, collate_tagging
from lstm_nlp.models import SequenceTagger, TaggerConfig
from lstm_nlp.training import Trainer, TrainerConfig


def _char_examples(count: int = 48) -> list[dict]:
    rng = random.Random(5)
    out = []
    for index in range(count):
        tokens = [rng.randrange(1, 30) for _ in range(rng.randrange(3, 14))]
        out.append({"token_ids": tokens, "label_ids": [t % 5 for t in tokens], "index": index,
                    "char_ids": [[1 + (t * 7 + k) % 19 for k in range(1 + t % 6)] for t in tokens]})
    return out


def _train(char_encoder: str, head: str, change_threads) -> dict[str, torch.Tensor]:
    torch.manual_seed(0)
    model = SequenceTagger(TaggerConfig(vocab_size=30, num_labels=5, embedding_dim=16, hidden_size=24, num_layers=2,
                                        char_encoder=char_encoder, char_vocab_size=20, head=head))
    data = _char_examples()
    loader = DataLoader(data, collate_fn=collate_tagging,
                        batch_sampler=BucketBatchSampler([len(e["token_ids"]) for e in data], 8, shuffle=True, seed=1))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(trainer_module, "adapt_cpu_threads", change_threads)
        Trainer(model, TrainerConfig(epochs=2, progress=False, seed=1), train_loader=loader).fit()
    return {k: v.clone() for k, v in model.state_dict().items()}


@pytest.mark.parametrize("char_encoder, head", [("lstm", "softmax"), ("cnn", "crf")])
def test_changing_threads_between_steps_gives_the_same_weights(char_encoder, head):
    before = torch.get_num_threads()
    steps = []

    def alternate():
        steps.append(1)
        torch.set_num_threads(1 + len(steps) % 2)

    try:
        torch.set_num_threads(1)
        fixed = _train(char_encoder, head, lambda: None)
        torch.set_num_threads(1)
        changing = _train(char_encoder, head, alternate)
    finally:
        torch.set_num_threads(before)
    assert len(steps) == 12  # called once per optimizer step
    assert all(torch.equal(fixed[k], changing[k]) for k in fixed)
