"""Sentence blocks of CoNLL / CoNLL-U files: read every line, write back only the tags."""

from __future__ import annotations

import pytest

from lstm_nlp.data.conll_blocks import read_blocks, write_block
from lstm_nlp.errors import DataFormatError

CONLLU = ["# sent_id = 1", "# text = Don't go.", "1-2\tDon't\t_\t_\t_\t_\t_\t_\t_\t_",
          "1\tDo\tdo\tAUX\tVBP\t_\t3\taux\t_\t_", "2\tn't\tnot\tPART\tRB\t_\t3\tadvmod\t_\t_",
          "2.1\tgone\tgo\tVERB\tVBN\t_\t_\t_\t0:root\t_", "3\tgo\tgo\tVERB\tVB\t_\t0\troot\t_\t_",
          "4\t.\t.\tPUNCT\t.\t_\t3\tpunct\t_\tSpaceAfter=No", "", "1\tHi\thi\tINTJ\tUH\t_\t0\troot\t_\t_", ""]
CONLL = ["-DOCSTART- -X- -X- O", "", "EU NNP B-NP B-ORG", "rejects VBZ B-VP O", "", "", "Peter\tNNP\tB-NP\tB-PER", ""]


def test_conllu_blocks_keep_every_line_and_tag_only_words():
    blocks = list(read_blocks(CONLLU, kind="conllu"))
    assert [b.tokens for b in blocks] == [["Do", "n't", "go", "."], ["Hi"]]
    assert blocks[0].token_lines == [3, 4, 6, 7] and blocks[1].first_line == 10
    written = write_block(blocks[0], ["X1", "X2", "X3", "X4"], kind="conllu", column="upos").split("\n")
    changed = [i for i, (a, b) in enumerate(zip(CONLLU, written)) if a != b]
    assert changed == [3, 4, 6, 7] and written[3] == "1\tDo\tdo\tX1\tVBP\t_\t3\taux\t_\t_"
    assert write_block(blocks[1], ["Y"], kind="conllu", column="xpos") == "1\tHi\thi\tINTJ\tY\t_\t0\troot\t_\t_"


def test_conll_blocks_add_a_last_column_in_the_line_own_separator():
    blocks = list(read_blocks(CONLL, kind="conll"))
    assert [b.tokens for b in blocks] == [[], ["EU", "rejects"], ["Peter"]]  # -DOCSTART- is kept, not tagged
    assert write_block(blocks[0], [], kind="conll") == "-DOCSTART- -X- -X- O O"  # every line: one more column
    assert write_block(blocks[1], ["B-ORG", "O"], kind="conll") == "EU NNP B-NP B-ORG B-ORG\nrejects VBZ B-VP O O"
    assert write_block(blocks[2], ["B-PER"], kind="conll") == "Peter\tNNP\tB-NP\tB-PER\tB-PER"


@pytest.mark.parametrize("lines, kind, message", [
    (["1\tThe\tthe"], "conllu", "input:1: expected 10 tab-separated CoNLL-U columns, found 3"),
    (["-1\tThe\tthe\tDET\tDT\t_\t0\troot\t_\t_"], "conllu",
     "input:1: token id must be a positive integer .*, got '-1'"),
    (["a b", "c"], "conll", None),
])
def test_bad_lines_name_their_number(lines, kind, message):
    if message is None:  # CoNLL: any number of columns >= the token column's
        assert [b.tokens for b in read_blocks(lines, kind=kind)] == [["a", "c"]]
        return
    with pytest.raises(DataFormatError, match=message):
        list(read_blocks(lines, kind=kind))
