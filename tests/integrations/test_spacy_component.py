"""The spaCy component, found through its entry point: POS tags, entities and categories on spacy.blank("en")."""

from __future__ import annotations

import pytest
import spacy
import torch

from lstm_nlp.data import Vocab
from lstm_nlp.data.series import Scaler
from lstm_nlp.data.tokenizers import TextTokenizer
from lstm_nlp.errors import ConfigError
from lstm_nlp.models import ClassifierConfig, Forecaster, ForecasterConfig, SequenceTagger, TaggerConfig, TextClassifier
from lstm_nlp.pipelines import ClassificationPipeline, ForecastPipeline, TaggingPipeline

WORDS = Vocab.build([["the", "cat", "sat", "on", "mat", "."]])


def tagger_bundle(path, labels, *, scheme="none", always=None):
    config = TaggerConfig(vocab_size=len(WORDS), num_labels=len(labels), embedding_dim=4, hidden_size=4,
                          num_layers=1)
    model, label_vocab = SequenceTagger(config), Vocab.build_labels([labels])
    if always is not None:  # make the untrained model predict one tag everywhere
        with torch.no_grad():
            model.head.projection.bias[label_vocab.stoi[always]] = 100.0
    TaggingPipeline(model, WORDS, label_vocab, scheme=scheme).save_pretrained(path)
    return str(path)


def test_pos_model_sets_token_pos(tmp_path):
    nlp = spacy.blank("en")
    nlp.add_pipe("lstm_nlp_tagger", config={"model": tagger_bundle(tmp_path / "pos", ["DET", "NOUN", "VERB"])})
    doc = nlp("The cat sat.")
    assert [t.text for t in doc] == ["The", "cat", "sat", "."]  # spaCy's tokens, tagged as they are
    assert all(t.pos_ in ("DET", "NOUN", "VERB") for t in doc)


def test_ner_model_sets_doc_ents_and_pipe_batches(tmp_path):
    model = tagger_bundle(tmp_path / "ner", ["O", "B-PER", "I-PER"], scheme="iob2", always="B-PER")
    nlp = spacy.blank("en")
    nlp.add_pipe("lstm_nlp_tagger", config={"model": model, "batch_size": 2})
    docs = list(nlp.pipe(["The cat sat.", "On the mat", "the", "cat sat", "."], batch_size=2))
    assert [len(doc.ents) for doc in docs] == [4, 3, 1, 2, 1]  # B-PER on every token: one-token PER spans
    assert {ent.label_ for doc in docs for ent in doc.ents} == {"PER"}


def test_crf_ner_model_stores_span_probabilities_in_doc_spans(tmp_path):
    from lstm_nlp.modules.crf import allowed_transitions

    labels = Vocab.build_labels([["O", "B-PER", "I-PER"]])
    config = TaggerConfig(vocab_size=len(WORDS), num_labels=3, embedding_dim=4, hidden_size=4, num_layers=1,
                          head="crf")
    model = SequenceTagger(config, constraints=allowed_transitions(labels.itos))
    with torch.no_grad():
        model.head.projection.bias[labels.stoi["B-PER"]] = 3.0  # one-token PER spans, not certain ones
    TaggingPipeline(model, WORDS, labels, scheme="iob2").save_pretrained(tmp_path / "crf")
    nlp = spacy.blank("en")
    nlp.add_pipe("lstm_nlp_tagger", config={"model": str(tmp_path / "crf")})
    doc = nlp("The cat sat.")
    group = doc.spans["lstm_nlp_tagger"]
    assert [(s.start, s.end, s.label_) for s in group] == [(e.start, e.end, e.label_) for e in doc.ents]
    assert len(group) > 0 and len(group.attrs["scores"]) == len(group)
    expected = TaggingPipeline.from_pretrained(tmp_path / "crf").predict_spans([[t.text for t in doc]])[2][0]
    assert group.attrs["scores"] == pytest.approx([score for *_, score in expected])
    assert all(0 < score < 1 for score in group.attrs["scores"])


def classifier_nlp(path):
    """spacy.blank("en") with an untrained two-class (neg, pos) classifier saved at ``path``."""
    labels = Vocab.build_labels(["neg", "pos"])
    model = TextClassifier(ClassifierConfig(vocab_size=len(WORDS), num_labels=2, embedding_dim=4, hidden_size=4))
    ClassificationPipeline(model, WORDS, labels, TextTokenizer("spacy")).save_pretrained(path)
    nlp = spacy.blank("en")
    nlp.add_pipe("lstm_nlp_tagger", config={"model": str(path)})
    return nlp


def test_classifier_sets_doc_cats(tmp_path):
    nlp = classifier_nlp(tmp_path / "clf")
    cats = nlp("This film is great").cats
    assert set(cats) == {"neg", "pos"} and sum(cats.values()) == pytest.approx(1.0)


def test_a_forecaster_or_no_model_is_a_clear_error(tmp_path):
    ForecastPipeline(Forecaster(ForecasterConfig(window=4, horizon=2, hidden_size=4), scaler=Scaler(0.0, 1.0))
                     ).save_pretrained(tmp_path / "fc")
    with pytest.raises(ConfigError, match="takes taggers and text classifiers"):
        spacy.blank("en").add_pipe("lstm_nlp_tagger", config={"model": str(tmp_path / "fc")})
    with pytest.raises(ConfigError, match="needs config"):
        spacy.blank("en").add_pipe("lstm_nlp_tagger")


def test_to_disk_copies_the_bundle_so_the_pipeline_loads_without_it(tmp_path):
    import shutil

    bundle = tagger_bundle(tmp_path / "pos", ["DET", "NOUN", "VERB"], always="NOUN")
    nlp = spacy.blank("en")
    nlp.add_pipe("lstm_nlp_tagger", config={"model": bundle})
    nlp.to_disk(tmp_path / "pipe")
    shutil.rmtree(bundle)
    shutil.move(tmp_path / "pipe", tmp_path / "moved")
    doc = spacy.load(tmp_path / "moved")("The cat sat.")
    assert [t.pos_ for t in doc] == ["NOUN"] * 4
    assert (tmp_path / "moved" / "lstm_nlp_tagger" / "bundle").is_dir()


def _examples(nlp, sentences, **gold):
    from spacy.tokens import Doc
    from spacy.training import Example

    return [Example(Doc(nlp.vocab, words=words), Doc(nlp.vocab, words=words, **{key: value[i]}))
            for key, value in gold.items() for i, words in enumerate(sentences)]


NER_FILE = """Blue NNP B-NP B-ORG
River NNP I-NP I-ORG
sat VBD B-VP O

the DT B-NP O
cat NN I-NP B-PER
. . O O
"""


def test_nlp_evaluate_reports_ents_prf_equal_to_the_toolkit(tmp_path):
    bundle = tagger_bundle(tmp_path / "ner", ["O", "B-PER", "I-PER", "B-ORG", "I-ORG"], scheme="iob2",
                           always="B-PER")
    (tmp_path / "test.txt").write_text(NER_FILE)
    pipeline = TaggingPipeline.from_pretrained(bundle)
    expected = pipeline.evaluate(pipeline.read_labelled(tmp_path / "test.txt"))
    sentences = [[line.split()[0] for line in block.splitlines()] for block in NER_FILE.strip().split("\n\n")]
    tags = [[line.split()[-1] for line in block.splitlines()] for block in NER_FILE.strip().split("\n\n")]
    nlp = spacy.blank("en")
    nlp.add_pipe("lstm_nlp_tagger", config={"model": bundle})
    scores = nlp.evaluate(_examples(nlp, sentences, ents=tags))
    assert scores["ents_p"] == pytest.approx(expected["precision_conlleval"])
    assert scores["ents_r"] == pytest.approx(expected["recall_conlleval"])
    assert scores["ents_f"] == pytest.approx(expected["f1_conlleval"])
    assert scores["ents_f"] > 0


def test_nlp_evaluate_reports_pos_acc_equal_to_the_toolkit_accuracy(tmp_path):
    bundle = tagger_bundle(tmp_path / "pos", ["DET", "NOUN", "VERB"], always="NOUN")
    pipeline = TaggingPipeline.from_pretrained(bundle)
    sentences, tags = [["the", "cat", "sat"], ["on", "the", "mat", "."]], [["DET", "NOUN", "VERB"],
                                                                        ["DET", "DET", "NOUN", "NOUN"]]
    conllu = "\n\n".join("\n".join(f"{i + 1}\t{w}\t_\t{t}\t_\t_\t_\t_\t_\t_" for i, (w, t) in enumerate(zip(ws, ts)))
                         for ws, ts in zip(sentences, tags)) + "\n\n"
    (tmp_path / "test.conllu").write_text(conllu)
    expected = pipeline.evaluate(pipeline.read_labelled(tmp_path / "test.conllu"))["accuracy"]
    nlp = spacy.blank("en")
    nlp.add_pipe("lstm_nlp_tagger", config={"model": bundle})
    assert nlp.evaluate(_examples(nlp, sentences, pos=tags))["pos_acc"] == pytest.approx(expected) == 3 / 7


def test_nlp_evaluate_reports_cats_scores(tmp_path):
    nlp = classifier_nlp(tmp_path / "clf")
    from spacy.training import Example

    examples = [Example.from_dict(nlp.make_doc(text), {"cats": {"neg": float(y == "neg"), "pos": float(y == "pos")}})
                for text, y in [("the cat sat", "pos"), ("the mat", "neg")]]
    scores = nlp.evaluate(examples)
    assert {"cats_score", "cats_macro_f", "cats_micro_f"} <= set(scores)


@pytest.mark.slow
def test_spacy_package_builds_a_wheel_that_carries_the_model(tmp_path):
    """``spacy package --build wheel``; the wheel, installed alone into a folder, loads with the
    pipeline folder and the original bundle both deleted."""
    import importlib.util
    import shutil
    import subprocess
    import sys

    if not (importlib.util.find_spec("wheel") or importlib.util.find_spec("build")):
        pytest.skip("spacy package needs 'wheel' or 'build' (in the [test] extra)")
    bundle = tagger_bundle(tmp_path / "pos", ["DET", "NOUN", "VERB"], always="VERB")
    nlp = spacy.blank("en")
    nlp.add_pipe("lstm_nlp_tagger", config={"model": bundle})
    nlp.meta.update(name="lstm_pos", version="0.0.1")
    nlp.to_disk(tmp_path / "pipe")
    shutil.rmtree(bundle)
    (tmp_path / "dist").mkdir()
    subprocess.run([sys.executable, "-m", "spacy", "package", str(tmp_path / "pipe"), str(tmp_path / "dist"),
                    "--build", "wheel"], check=True, capture_output=True)
    shutil.rmtree(tmp_path / "pipe")
    wheel = next((tmp_path / "dist").rglob("*.whl"))
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-index", "--target",
                    str(tmp_path / "site"), str(wheel)], check=True, capture_output=True)
    shutil.rmtree(tmp_path / "dist")
    code = "import spacy; print(' '.join(t.pos_ for t in spacy.load('en_lstm_pos')('The cat sat.')))"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, cwd=tmp_path,
                         env={**__import__("os").environ, "PYTHONPATH": str(tmp_path / "site")})
    assert out.stdout.split() == ["VERB"] * 4
