"""prepare_for_inference: fp32 is exact, bf16 keeps shapes/dtypes and agrees with fp32 at most positions."""

import pytest
import torch

from lstm_nlp import cli
from lstm_nlp.data import Vocab
from lstm_nlp.errors import ConfigError
from lstm_nlp.inference import prepare_for_inference
from lstm_nlp.models import SequenceTagger, TaggerConfig
from lstm_nlp.pipelines import TaggingPipeline

WORDS = ["the", "dog", "sees", "a", "cat", "she", "sleeps", "."]
TAGS = ["DET", "NOUN", "VERB", "PRON", "PUNCT"]


def _tagger(seed=0, **overrides) -> SequenceTagger:
    torch.manual_seed(seed)
    config = TaggerConfig(vocab_size=len(WORDS) + 2, num_labels=len(TAGS), embedding_dim=16, hidden_size=16,
                          **overrides)
    return SequenceTagger(config)


def _batch(seed=1):
    generator = torch.Generator().manual_seed(seed)
    lengths = torch.tensor([7, 3, 1, 5, 7, 2])
    mask = torch.arange(7)[None, :] < lengths[:, None]
    ids = torch.randint(2, len(WORDS) + 2, (6, 7), generator=generator).masked_fill(~mask, 0)
    return ids, mask


def _trained_tagger() -> SequenceTagger:
    """A tiny tagger fitted on random tags, so its logits are not all near-ties."""
    model = _tagger()
    ids, mask = _batch()
    labels = torch.randint(0, len(TAGS), ids.shape, generator=torch.Generator().manual_seed(2))
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    model.train()
    for _ in range(30):
        optimizer.zero_grad()
        model(ids, mask=mask, labels=labels).loss.backward()
        optimizer.step()
    return model.eval()


def test_fp32_is_exact_and_sets_eval_mode():
    model = _tagger().train()
    ids, mask = _batch()
    expected = _tagger().eval()(ids, mask=mask).logits
    prepared = prepare_for_inference(model, precision="fp32")
    assert prepared is model and not model.training
    torch.testing.assert_close(model(ids, mask=mask).logits, expected, rtol=0, atol=0)


def test_bf16_stores_weights_in_bf16_keeps_fp32_outputs_and_agrees_with_fp32():
    model = _trained_tagger()
    ids, mask = _batch()
    with torch.no_grad():
        reference = model(ids, mask=mask).logits
        prepare_for_inference(model, precision="bf16")
        output = model(ids, mask=mask)
    assert output.logits.shape == reference.shape and output.logits.dtype == torch.float32
    assert output.mask.dtype == torch.bool
    assert {p.dtype for p in model.parameters()} == {torch.bfloat16}
    agree = (output.logits.argmax(-1) == reference.argmax(-1))[mask].float().mean().item()
    assert agree >= 0.9
    assert (output.logits - reference)[mask].abs().max().item() < 0.25
    assert model.inference_precision == "bf16"


def test_bf16_is_irreversible_and_keeps_crf_transitions_in_fp32():
    model = _tagger(head="crf")
    prepare_for_inference(model, precision="bf16")
    prepare_for_inference(model, precision="bf16")  # the same setting again: no-op
    assert model.head.crf.transitions.dtype == torch.float32
    assert model.embedding.embedding.weight.dtype == torch.bfloat16
    with pytest.raises(ConfigError, match="reload the bundle"):
        prepare_for_inference(model, precision="fp32")


def test_bf16_weights_give_the_same_tags_as_autocast_alone():
    model = _trained_tagger()
    ids, mask = _batch()
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        autocast_tags = model.decode(model(ids, mask=mask))
    prepare_for_inference(model, precision="bf16")
    with torch.no_grad():
        tags = model.decode(model(ids, mask=mask))
    assert sum(a == b for x, y in zip(tags, autocast_tags) for a, b in zip(x, y)) >= 0.9 * int(mask.sum())


def test_bf16_training_loss_path_and_crf_head_decode():
    model = _tagger(head="crf")
    ids, mask = _batch()
    labels = torch.zeros_like(ids)
    with torch.no_grad():
        fp32_tags = model.decode(model(ids, mask=mask))
        prepare_for_inference(model, precision="bf16")
        output = model(ids, mask=mask, labels=labels)
    assert output.loss is not None and output.loss.dtype == torch.float32
    tags = model.decode(output)
    assert [len(t) for t in tags] == [len(t) for t in fp32_tags] == mask.sum(-1).tolist()


def test_unknown_precision_is_a_config_error():
    with pytest.raises(ConfigError, match="precision"):
        prepare_for_inference(_tagger(), precision="int4")


def test_pipeline_predictions_in_bf16_keep_lengths_and_order():
    words, labels = Vocab.build([WORDS]), Vocab.build_labels([TAGS])
    pipeline = TaggingPipeline(_trained_tagger(), words, labels)
    sentences = [["the", "dog", "sees", "a", "cat", "."], [], ["she", "sleeps"]]
    fp32 = pipeline.predict_tokens(sentences)
    prepare_for_inference(pipeline.model, precision="bf16")
    bf16 = pipeline.predict_tokens(sentences)
    assert [len(t) for t in bf16] == [len(s) for s in sentences]
    same = sum(a == b for x, y in zip(fp32, bf16) for a, b in zip(x, y))
    assert same >= 0.75 * sum(len(s) for s in sentences)


def test_cli_predict_and_evaluate_accept_precision(tmp_path, capsys, sample_dir):
    words, labels = Vocab.build([WORDS]), Vocab.build_labels([TAGS])
    TaggingPipeline(_trained_tagger(), words, labels).save_pretrained(tmp_path / "model")
    text = tmp_path / "in.txt"
    text.write_text("the dog sees a cat .\n\nshe sleeps\n", encoding="utf-8")
    assert cli.main(["predict", "--model", str(tmp_path / "model"), "--input", str(text), "--precision", "bf16"]) == 0
    lines = capsys.readouterr().out.split("\n")
    assert lines[0].startswith("the/") and lines[1] == "" and lines[2].startswith("she/")
    assert cli.main(["evaluate", "--model", str(tmp_path / "model"), "--data", str(sample_dir / "pos" / "dev.conllu"),
                     "--precision", "bf16"]) == 0
    assert '"accuracy"' in capsys.readouterr().out


def test_paused_gc_restores_the_collector_state_and_nests():
    import gc

    from lstm_nlp.inference import paused_gc

    assert gc.isenabled()
    with paused_gc():
        assert not gc.isenabled()
        with paused_gc():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the inner block does not re-enable early
    assert gc.isenabled()
    with pytest.raises(RuntimeError), paused_gc():
        raise RuntimeError("boom")
    assert gc.isenabled()
