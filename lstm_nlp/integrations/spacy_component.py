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

spaCy imports every registered factory's module when it builds any pipeline (``spacy.blank``
too), so this module imports the toolkit's pipelines only when a component is created.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from spacy.language import Language
from spacy.tokens import Doc, Span, SpanGroup
from spacy.util import minibatch

from lstm_nlp.errors import ConfigError
from lstm_nlp.tags import to_spans

FACTORY = "lstm_nlp_tagger"


class LstmNlpComponent:
    """Runs a saved lstm_nlp bundle on spaCy ``Doc`` objects (see the module docstring)."""

    def __init__(self, name: str, model: str, *, device: str = "cpu", batch_size: int = 256):
        from lstm_nlp.pipelines import ClassificationPipeline, TaggingPipeline, load_pipeline

        if not model:
            raise ConfigError(f"the {FACTORY!r} component needs config={{'model': 'path/to/bundle'}}")
        self.name = name
        self.batch_size = batch_size
        self.pipeline = load_pipeline(model, device=device)
        self.is_classifier = isinstance(self.pipeline, ClassificationPipeline)
        if not isinstance(self.pipeline, (TaggingPipeline, ClassificationPipeline)):
            raise ConfigError(f"{model} holds a {type(self.pipeline).__name__}; the spaCy component takes taggers "
                              "and text classifiers")

    def __call__(self, doc: Doc) -> Doc:
        self._annotate([doc])
        return doc

    def pipe(self, docs: Iterable[Doc], *, batch_size: int | None = None) -> Iterator[Doc]:
        for batch in minibatch(docs, size=batch_size or self.batch_size):
            self._annotate(batch)
            yield from batch

    def _annotate(self, docs: list[Doc]) -> None:
        if self.is_classifier:
            labels = self.pipeline.labels.itos
            probabilities = self.pipeline.predict_examples(self.pipeline.featurize([doc.text for doc in docs]),
                                                           batch_size=self.batch_size)
            for doc, row in zip(docs, probabilities.tolist()):
                doc.cats = dict(zip(labels, row))
            return
        sentences = [[token.text for token in doc] for doc in docs]
        if self.pipeline.scheme != "none" and self.pipeline.model.config.head == "crf":
            _, _, found = self.pipeline.predict_spans(sentences, batch_size=self.batch_size)
            for doc, spans in zip(docs, found):
                doc.ents = [Span(doc, start, end, label=kind) for start, end, kind, _ in spans]
                doc.spans[self.name] = SpanGroup(doc, name=self.name, spans=list(doc.ents),
                                                 attrs={"scores": [score for *_, score in spans]})
            return
        tagged = self.pipeline.predict_tokens(sentences, batch_size=self.batch_size)
        if self.pipeline.scheme != "none":
            for doc, tags in zip(docs, tagged):
                spans = to_spans(tags, self.pipeline.scheme)
                doc.ents = [Span(doc, start, end, label=kind) for start, end, kind in spans]
            return
        attribute = "pos_" if self.pipeline.tag_column == "upos" else "tag_"
        for doc, tags in zip(docs, tagged):
            for token, tag in zip(doc, tags):
                setattr(token, attribute, tag)


@Language.factory(FACTORY, default_config={"model": "", "device": "cpu", "batch_size": 256})
def make_component(nlp: Language, name: str, model: str, device: str, batch_size: int) -> LstmNlpComponent:
    """spaCy factory of :class:`LstmNlpComponent` (``config``: ``model`` bundle folder, ``device``, ``batch_size``)."""
    return LstmNlpComponent(name, model, device=device, batch_size=batch_size)
