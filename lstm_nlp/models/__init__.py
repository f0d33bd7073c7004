"""Models: compositions of modules, with ``save_pretrained`` / ``from_pretrained``."""

from lstm_nlp.models.tagger import SequenceTagger, TaggerConfig, TaggerOutput

__all__ = ["SequenceTagger", "TaggerConfig", "TaggerOutput"]
