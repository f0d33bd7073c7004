"""An lstm_nlp model as a spaCy pipeline component: ``nlp.add_pipe("lstm_nlp_tagger", config={"model": DIR})``.

The factory is registered through the ``spacy_factories`` entry point, so no import is needed::

    import spacy
    nlp = spacy.blank("en")
    nlp.add_pipe("lstm_nlp_tagger", config={"model": "runs/pos/model"})
    [(t.text, t.pos_) for t in nlp("The cat sat.")]

What the component sets depends on the bundle:

* POS taggers (tag scheme ``none``): ``token.pos_`` for a model trained on CoNLL-U UPOS, else
  ``token.tag_`` (XPOS, or tags of a CoNLL column file);
* span taggers (IOB2 or BIOES labels: NER, chunking): ``doc.ents`` from the spans (read as
  :func:`lstm_nlp.tags.to_spans` reads them: an ``I-X`` that follows no ``X`` opens a span, as
  conlleval does), replacing earlier entities; a CRF tagger also sets ``doc.spans[name]`` (``name``:
  the component's, ``"lstm_nlp_tagger"`` by default), the same spans with their exact CRF
  probabilities in ``doc.spans[name].attrs["scores"]``, where spaCy's own span categorizer keeps
  its scores (a ``SpanGroup`` is saved by ``DocBin`` and needs no ``Span`` extension registered);
* text classifiers: ``doc.cats``, every class's probability.

The model tags spaCy's own tokens (no second tokenization); ``nlp.pipe`` batches documents.

The pipeline travels: ``nlp.to_disk(DIR)`` copies the bundle into the component's folder
(``DIR/<name>/bundle``) and ``spacy.load(DIR)`` reads it from there, so the pipeline loads after
the original bundle is moved or deleted, and ``spacy package DIR`` packs the model with it. When
the configured ``model`` folder is missing the component waits for ``from_disk``; used without
one, it names the missing folder.

``nlp.evaluate`` (and ``spacy evaluate``) score the component with spaCy's own scorers:
``pos_acc`` or ``tag_acc`` for POS taggers, ``ents_p``/``ents_r``/``ents_f`` (and per type) for
span taggers, ``cats_*`` for text classifiers (exclusive classes).

spaCy imports every registered factory's module when it builds any pipeline (``spacy.blank``
too), so this module imports the toolkit's pipelines only when a component is created.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path

from spacy.language import Language
from spacy.scorer import Scorer, get_ner_prf
from spacy.tokens import Doc, Span, SpanGroup
from spacy.util import minibatch

from lstm_nlp.errors import ConfigError
from lstm_nlp.pipelines.tasks import TASKS, titles
from lstm_nlp.tags import to_spans

FACTORY = "lstm_nlp_tagger"
BUNDLE_DIR = "bundle"  # the bundle's folder inside the component's to_disk folder


class LstmNlpComponent:
    """Runs a saved lstm_nlp bundle on spaCy ``Doc`` objects (see the module docstring)."""

    def __init__(self, name: str, model: str, *, device: str = "cpu", batch_size: int = 256):
        if not model:
            raise ConfigError(f"the {FACTORY!r} component needs config={{'model': 'path/to/bundle'}}")
        self.name = name
        self.model = model
        self.device = device
        self.batch_size = batch_size
        self.pipeline = None
        if Path(model).exists():  # else spacy.load is reading a saved pipeline: from_disk brings the bundle
            self._load(model)

    def _load(self, model: str | Path) -> None:
        from lstm_nlp.pipelines import load_pipeline

        pipeline = load_pipeline(model, device=self.device)
        sets = TASKS[pipeline.model_type].spacy_sets
        if sets is None:
            taken = [task for task in TASKS.values() if task.spacy_sets is not None]
            raise ConfigError(f"{model} holds a {type(pipeline).__name__}; the spaCy component takes {titles(taken)}")
        self.pipeline = pipeline
        self.bundle = Path(model)
        self.is_classifier = sets == "cats"

    def _loaded(self):
        if self.pipeline is None:
            self._load(self.model)  # raises the toolkit's BundleError naming the missing folder
        return self.pipeline

    def to_disk(self, path: str | Path, *, exclude: Iterable[str] = ()) -> None:
        """Copies the bundle into ``path/bundle`` (``nlp.to_disk`` gives each component its own folder)."""
        self._loaded()
        target = Path(path) / BUNDLE_DIR
        if target.resolve() != self.bundle.resolve():
            if target.exists():
                shutil.rmtree(target)
            shutil.copytree(self.bundle, target)

    def from_disk(self, path: str | Path, *, exclude: Iterable[str] = ()) -> LstmNlpComponent:
        """Loads the bundle that :meth:`to_disk` copied into ``path/bundle``."""
        self._load(Path(path) / BUNDLE_DIR)
        return self

    def score(self, examples, **kwargs) -> dict:
        """spaCy's scores of this component's annotation on ``examples`` (``nlp.evaluate`` calls it)."""
        pipeline = self._loaded()
        if self.is_classifier:
            return Scorer.score_cats(examples, "cats", labels=list(pipeline.labels.itos), multi_label=False,
                                     **kwargs)
        if pipeline.label_scheme != "none":
            return get_ner_prf(examples)
        attribute = "pos" if pipeline.tag_column == "upos" else "tag"
        return Scorer.score_token_attr(examples, attribute, **kwargs)

    def __call__(self, doc: Doc) -> Doc:
        self._annotate([doc])
        return doc

    def pipe(self, docs: Iterable[Doc], *, batch_size: int | None = None) -> Iterator[Doc]:
        for batch in minibatch(docs, size=batch_size or self.batch_size):
            self._annotate(batch)
            yield from batch

    def _annotate(self, docs: list[Doc]) -> None:
        self._loaded()
        if self.is_classifier:
            labels = self.pipeline.labels.itos
            probabilities = self.pipeline.predict_examples(self.pipeline.featurize([doc.text for doc in docs]),
                                                           batch_size=self.batch_size)
            for doc, row in zip(docs, probabilities.tolist()):
                doc.cats = dict(zip(labels, row))
            return
        sentences = [[token.text for token in doc] for doc in docs]
        if self.pipeline.label_scheme != "none" and self.pipeline.model.config.head == "crf":
            _, _, found = self.pipeline.predict_spans(sentences, batch_size=self.batch_size)
            for doc, spans in zip(docs, found):
                doc.ents = [Span(doc, start, end, label=kind) for start, end, kind, _ in spans]
                doc.spans[self.name] = SpanGroup(doc, name=self.name, spans=list(doc.ents),
                                                 attrs={"scores": [score for *_, score in spans]})
            return
        tagged = self.pipeline.predict_tokens(sentences, batch_size=self.batch_size)
        if self.pipeline.label_scheme != "none":
            for doc, tags in zip(docs, tagged):
                spans = to_spans(tags, self.pipeline.label_scheme)
                doc.ents = [Span(doc, start, end, label=kind) for start, end, kind in spans]
            return
        attribute = "pos_" if self.pipeline.tag_column == "upos" else "tag_"
        for doc, tags in zip(docs, tagged):
            for token, tag in zip(doc, tags):
                setattr(token, attribute, tag)


@Language.factory(FACTORY, default_config={"model": "", "device": "cpu", "batch_size": 256},
                  default_score_weights={"pos_acc": None, "tag_acc": None, "ents_f": None, "cats_score": None})
def make_component(nlp: Language, name: str, model: str, device: str, batch_size: int) -> LstmNlpComponent:
    """spaCy factory of :class:`LstmNlpComponent` (``config``: ``model`` bundle folder, ``device``, ``batch_size``)."""
    return LstmNlpComponent(name, model, device=device, batch_size=batch_size)
