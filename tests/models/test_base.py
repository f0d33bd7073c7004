"""PretrainedModel: every model's bundles are written and read by the one base class."""

import json

import pytest
import torch

from lstm_nlp.errors import BundleError
from lstm_nlp.models import ClassifierConfig, Forecaster, ForecasterConfig, SequenceTagger, TaggerConfig, TextClassifier
from lstm_nlp.models.base import PretrainedModel
from lstm_nlp.models.language_model import BiLanguageModel, LanguageModelConfig

MODELS = {
    "tagger": lambda: SequenceTagger(TaggerConfig(vocab_size=12, num_labels=4, embedding_dim=6, hidden_size=5)),
    "classifier": lambda: TextClassifier(ClassifierConfig(vocab_size=12, num_labels=2, embedding_dim=6,
                                                          hidden_size=5)),
    "forecaster": lambda: Forecaster(ForecasterConfig(window=6, horizon=2, hidden_size=5)),
    "language_model": lambda: BiLanguageModel(LanguageModelConfig(vocab_size=12, embedding_dim=6, hidden_size=5,
                                                                  cutoffs=(4, 8), div_value=2.0)),
}


@pytest.mark.parametrize("name", MODELS)
def test_every_model_round_trips_through_the_base_class(name, tmp_path):
    torch.manual_seed(0)
    model = MODELS[name]()
    assert isinstance(model, PretrainedModel)
    for method in ("save_pretrained", "from_pretrained", "from_bundle"):  # declared once, in the base
        assert method not in vars(type(model)), f"{type(model).__name__} redefines {method}"
    model.save_pretrained(tmp_path / name)
    loaded = type(model).from_pretrained(tmp_path / name)
    assert loaded.config == model.config and not loaded.training
    for key, value in model.state_dict().items():
        assert torch.equal(value, loaded.state_dict()[key]), key
    assert json.loads((tmp_path / name / "config.json").read_text())["model_type"] == type(model).model_type


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("field, value, message", [
    ("hidden_size", "1" + "0" * 5000, "got a 5001-digit number"),
    ("hidden_size", "Infinity", "hidden_size"),
    ("dropout", "Infinity", "dropout"),
    ("dropout", "NaN", "dropout"),
])
def test_out_of_range_numbers_in_config_json_are_refused_by_the_schema(name, field, value, message, tmp_path):
    MODELS[name]().save_pretrained(tmp_path / name)
    path = tmp_path / name / "config.json"
    text = path.read_text()
    header = json.loads(text)
    old = json.dumps(header["config"][field])
    text = text.replace(f'"{field}": {old}', f'"{field}": {value}', 1)
    assert value in text
    path.write_text(text)
    with pytest.raises(BundleError, match=message):
        type(MODELS[name]()).from_pretrained(tmp_path / name)


def test_language_model_cutoffs_are_checked_by_the_schema(tmp_path):
    MODELS["language_model"]().save_pretrained(tmp_path / "lm")
    path = tmp_path / "lm" / "config.json"
    header = json.loads(path.read_text())
    for bad, message in (([4, "x"], "cutoffs"), ([4, -1], "cutoffs"), ("4,8", "cutoffs"), ([8, 4], "increasing")):
        header["config"]["cutoffs"] = bad
        path.write_text(json.dumps(header))
        with pytest.raises(BundleError, match=message):
            BiLanguageModel.from_pretrained(tmp_path / "lm")
