"""lstm_nlp: LSTM-based NLP in modern PyTorch.

Readers -> Vocab -> batching -> Embedding -> LSTMEncoder -> heads -> models, with a Trainer,
seqeval metrics and ``save_pretrained`` / ``from_pretrained`` bundles. Each piece is importable
on its own::

    from lstm_nlp.data import read_conllu, Vocab, BucketBatchSampler, collate_tagging
    from lstm_nlp.modules import WordEmbedding, LSTMEncoder, TokenClassificationHead
    from lstm_nlp.models import SequenceTagger, TaggerConfig
    from lstm_nlp.training import Trainer, TrainerConfig
"""

__version__ = "0.1.0"

from lstm_nlp.logs import install_default_handler

install_default_handler()
