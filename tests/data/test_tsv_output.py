"""``--output-format tsv`` for taggers: token<TAB>TAG lines, a blank line after each sentence, from any input."""

from __future__ import annotations

from lstm_nlp import cli
from lstm_nlp.data import Vocab
from lstm_nlp.data.tag_writers import output_formats, write_tagged
from lstm_nlp.models import SequenceTagger, TaggerConfig
from lstm_nlp.pipelines import TaggingPipeline


def test_tsv_writes_one_token_a_line_and_a_blank_line_after_each_sentence():
    assert write_tagged([["The", "dog"], [], ["Hi"]], [["DET", "NOUN"], [], ["INTJ"]], "tsv") == [
        "The\tDET\ndog\tNOUN\n", "", "Hi\tINTJ\n"]


def test_tsv_goes_with_every_input_format():
    assert all("tsv" in output_formats(kind) for kind in ("text", "tokens", "conll", "conllu"))


def test_predict_writes_tsv_for_tokens_and_for_conllu_input(tmp_path, capsys):
    words = Vocab.build([["the", "dog"]])
    labels = Vocab.build_labels([["DET"]])  # one tag: the untrained model's output is known
    config = TaggerConfig(vocab_size=len(words), num_labels=1, embedding_dim=4, hidden_size=4, num_layers=1)
    TaggingPipeline(SequenceTagger(config), words, labels).save_pretrained(tmp_path / "m")
    (tmp_path / "in.txt").write_text("the dog\n\nthe\n", encoding="utf-8")
    model = ["predict", "--model", str(tmp_path / "m"), "--output-format", "tsv"]
    assert cli.main([*model, "--input", str(tmp_path / "in.txt"), "--input-format", "tokens"]) == 0
    assert capsys.readouterr().out == "the\tDET\ndog\tDET\n\n\nthe\tDET\n\n"
    (tmp_path / "in.conllu").write_text("1\tthe\t_\t_\t_\t_\t_\t_\t_\t_\n2\tdog\t_\t_\t_\t_\t_\t_\t_\t_\n\n",
                                        encoding="utf-8")
    assert cli.main([*model, "--input", str(tmp_path / "in.conllu"), "--input-format", "conllu"]) == 0
    assert capsys.readouterr().out == "the\tDET\ndog\tDET\n\n"
