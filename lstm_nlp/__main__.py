"""``python -m lstm_nlp``: the ``lstm-nlp`` command (:func:`lstm_nlp.cli.run`)."""

from lstm_nlp.cli import run

if __name__ == "__main__":
    run()
