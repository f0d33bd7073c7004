"""read_annotations on files written the way Label Studio and doccano export them, and the import records."""

import json

import pytest

from lstm_nlp.data import read_annotations
from lstm_nlp.data.annotations import (
    doccano_record,
    label_studio_task,
    spaced_offsets,
    spans_to_tags,
    token_offsets,
    utf16_to_code_points,
)
from lstm_nlp.data.conll import read_conll
from lstm_nlp.errors import DataFormatError

# Emoji (outside the BMP: 2 UTF-16 code units, 1 code point) and CJK before the spans.
TEXT = "😀 Maria Lopez visited 東京 and 🇫🇷 Paris."


def _region(start, end, label, text=TEXT, rid="r1"):
    return {"value": {"start": start, "end": end, "text": text[start:end], "labels": [label]}, "id": rid,
            "from_name": "label", "to_name": "text", "type": "labels", "origin": "manual"}


def _ls_task(task_id, text, regions, *, cancelled=False):
    """A task as Label Studio's JSON export writes it."""
    return {"id": task_id, "annotations": [{
        "id": 100 + task_id, "completed_by": 1, "result": regions, "was_cancelled": cancelled, "ground_truth": False,
        "created_at": "2026-12-01T10:00:00.000000Z", "updated_at": "2026-12-01T10:00:00.000000Z", "lead_time": 3.2,
        "prediction": {}, "result_count": 0, "task": task_id, "parent_prediction": None, "parent_annotation": None}],
        "file_upload": "tasks.json", "drafts": [], "predictions": [], "data": {"text": text}, "meta": {},
        "created_at": "2026-12-01T09:00:00.000000Z", "updated_at": "2026-12-01T10:00:00.000000Z", "inner_id": task_id,
        "total_annotations": 1, "cancelled_annotations": 0, "total_predictions": 0, "comment_count": 0,
        "unresolved_comment_count": 0, "last_comment_updated_at": None, "project": 1, "updated_by": 1,
        "comment_authors": []}


def _write_json(path, value):
    path.write_text(json.dumps(value, ensure_ascii=False), encoding="utf-8")
    return path


def _write_jsonl(path, records):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


def _span(text, word):
    start = text.index(word)
    return start, start + len(word)


# spaCy's English rules split the flag into its two regional indicator symbols
EXPECTED_TOKENS = ["😀", "Maria", "Lopez", "visited", "東京", "and", "🇫", "🇷", "Paris", "."]
EXPECTED_TAGS = ["O", "B-PER", "I-PER", "O", "B-LOC", "O", "O", "O", "B-LOC", "O"]


def test_label_studio_json_export_with_emoji_and_cjk_becomes_conll_columns(tmp_path):
    regions = [_region(*_span(TEXT, "Maria Lopez"), "PER"), _region(*_span(TEXT, "東京"), "LOC", rid="r2"),
               _region(*_span(TEXT, "Paris"), "LOC", rid="r3")]
    data = read_annotations(_write_json(tmp_path / "export.json", [_ls_task(1, TEXT, regions)]))
    assert data[0] == {"tokens": EXPECTED_TOKENS, "tags": EXPECTED_TAGS}
    conll = tmp_path / "same.txt"
    conll.write_text("".join(f"{t} {g}\n" for t, g in zip(EXPECTED_TOKENS, EXPECTED_TAGS)), encoding="utf-8")
    assert data.features == read_conll(conll, tag_column=1).features  # what the readers give: retrain on it


def test_utf16_offsets_of_label_studio_before_its_emoji_fix_are_recognised_by_the_region_text(tmp_path):
    def utf16(index):
        return len(TEXT[:index].encode("utf-16-le")) // 2

    start, end = _span(TEXT, "Paris")
    region = {"value": {"start": utf16(start), "end": utf16(end), "text": "Paris", "labels": ["LOC"]},
              "from_name": "label", "to_name": "text", "type": "labels"}
    assert (utf16(start), utf16(end)) == (start + 3, end + 3)  # 😀 and the two regional indicators of 🇫🇷
    data = read_annotations(_write_json(tmp_path / "old.json", [_ls_task(7, TEXT, [region])]))
    assert data[0]["tags"][8] == "B-LOC" and data[0]["tags"].count("O") == 9
    assert utf16_to_code_points("😀a", 1) is None and utf16_to_code_points("😀a", 2) == 1


def test_doccano_jsonl_export_in_its_three_shapes(tmp_path):
    per, loc = _span(TEXT, "Maria Lopez"), _span(TEXT, "東京")
    paris = _span(TEXT, "Paris")
    records = [
        {"id": 1, "text": TEXT, "label": [[*per, "PER"], [*loc, "LOC"], [*paris, "LOC"]], "Comments": []},
        {"id": 2, "text": TEXT, "labels": [[*paris, "LOC"], [*per, "PER"], [*loc, "LOC"]]},  # older doccano
        {"id": 3, "text": TEXT, "entities": [
            {"id": 11, "label": "PER", "start_offset": per[0], "end_offset": per[1]},
            {"id": 12, "label": "LOC", "start_offset": loc[0], "end_offset": loc[1]},
            {"id": 13, "label": "LOC", "start_offset": paris[0], "end_offset": paris[1]}], "relations": []},
        {"id": 4, "text": "Nothing here .", "label": []},
    ]
    data = read_annotations(_write_jsonl(tmp_path / "admin.jsonl", records))
    assert data["tags"][:3] == [EXPECTED_TAGS] * 3 and data[3] == {"tokens": ["Nothing", "here", "."],
                                                                  "tags": ["O", "O", "O"]}


def test_class_labels_of_both_tools_give_text_and_label_columns(tmp_path):
    doccano = _write_jsonl(tmp_path / "d.jsonl", [{"id": 1, "text": "Great film 😀", "label": ["pos"]},
                                                  {"id": 2, "text": "Dull.", "label": ["neg"]}])
    assert read_annotations(doccano).to_dict() == {"text": ["Great film 😀", "Dull."], "label": ["pos", "neg"]}
    choice = {"type": "choices", "value": {"choices": ["neg"]}, "from_name": "label", "to_name": "text"}
    studio = _write_json(tmp_path / "s.json", [_ls_task(1, "Dull.", [choice])])
    assert read_annotations(studio, labels=["neg", "pos"]).to_dict() == {"text": ["Dull."], "label": ["neg"]}


def test_label_studio_json_min_export_and_untouched_or_cancelled_tasks(tmp_path, caplog):
    start, end = _span(TEXT, "Paris")
    minimal = [{"text": TEXT, "id": 3, "label": [{"start": start, "end": end, "text": "Paris", "labels": ["LOC"]}],
                "annotator": 1, "annotation_id": 5, "lead_time": 2.0}]
    assert read_annotations(_write_json(tmp_path / "min.json", minimal))[0]["tags"][8] == "B-LOC"
    tasks = [_ls_task(1, "Paris .", [_region(0, 5, "LOC", text="Paris .")]),
             _ls_task(2, "Rome .", [_region(0, 4, "LOC", text="Rome .")], cancelled=True),
             {**_ls_task(3, "Oslo .", []), "annotations": []}]
    with caplog.at_level("WARNING", logger="lstm_nlp"):
        data = read_annotations(_write_json(tmp_path / "some.json", tasks))
    assert data.to_dict() == {"tokens": [["Paris", "."]], "tags": [["B-LOC", "O"]]}
    assert "2 task(s) without an annotation" in caplog.text


def test_a_selection_with_the_space_after_a_word_is_trimmed_to_the_word(tmp_path):
    text = "Maria Lopez visited Paris"
    records = [{"id": 9, "text": text, "label": [[0, 12, "PER"], [19, 25, "LOC"]]}]  # "Maria Lopez ", " Paris"
    assert read_annotations(_write_jsonl(tmp_path / "a.jsonl", records))[0]["tags"] == ["B-PER", "I-PER", "O", "B-LOC"]


@pytest.mark.parametrize("records, message", [
    ([{"id": 5, "text": "Maria Lopez visited Paris", "label": [[0, 3, "PER"]]}],
     ("record 0 (id 5): span [0, 3) 'Mar' 'PER' ends at character 3 inside the token 'Maria', not at a token "
      "boundary")),
    ([{"text": "ok", "label": []},
      {"id": "x9", "text": "Maria Lopez visited", "label": [[0, 11, "PER"], [6, 19, "ORG"]]}],
     "record 1 (id x9): span [6, 19) 'Lopez visited' 'ORG' overlaps span [0, 11) 'Maria Lopez' 'PER'"),
    ([{"id": 1, "text": "Maria", "label": [[0, 5, "PERSON"]]}],
     "record 0 (id 1): label 'PERSON' is not one of LOC, PER"),
    ([{"id": 1, "text": "Maria", "label": [[0, 9, "PER"]]}], "span [0, 9) 'PER' is outside its text of 5 characters"),
    ([{"id": 1, "text": "我住在北京。", "label": [[3, 5, "LOC"]]}],
     "starts at character 3 inside the token '我住在北京'"),
    ([{"id": 1, "text": "Good", "label": ["pos", "neg"]}], "record 0 (id 1): has 2 class labels"),
    ([{"id": 1, "text": "Good", "label": ["pos"]}, {"id": 2, "text": "Maria", "label": [[0, 5, "PER"]]}],
     "some records have spans and others class labels"),
    ([{"id": 1, "txt": "Good"}], "record 0 (id 1): no text in field 'text'"),
])
def test_bad_exports_are_one_line_errors_naming_the_file_line_and_record(tmp_path, records, message):
    path = _write_jsonl(tmp_path / "bad.jsonl", records)
    with pytest.raises(DataFormatError) as caught:
        read_annotations(path, labels=["B-PER", "I-PER", "B-LOC", "I-LOC"] if "PERSON" in message else None)
    assert message in str(caught.value) and str(caught.value).startswith(str(path))
    assert "\n" not in str(caught.value)


def test_a_label_studio_region_whose_text_disagrees_with_the_task_is_an_error(tmp_path):
    region = {"value": {"start": 0, "end": 5, "text": "Paris", "labels": ["LOC"]}, "type": "labels"}
    with pytest.raises(DataFormatError, match=r"record 0 \(id 4\): region \[0, 5\) says its text is 'Paris' but"):
        read_annotations(_write_json(tmp_path / "e.json", [_ls_task(4, "Rome is far", [region])]))


def test_empty_and_non_json_files_are_clear_errors(tmp_path):
    (tmp_path / "empty.json").write_text("\n", encoding="utf-8")
    with pytest.raises(DataFormatError, match="empty file"):
        read_annotations(tmp_path / "empty.json")
    (tmp_path / "text.jsonl").write_text("Maria Lopez\n", encoding="utf-8")
    with pytest.raises(DataFormatError, match=r"text.jsonl:1: invalid JSON"):
        read_annotations(tmp_path / "text.jsonl")


def test_import_records_written_for_rank_read_back_as_the_same_tags(tmp_path):
    offsets = token_offsets(TEXT)
    assert [TEXT[a:b] for a, b in offsets] == EXPECTED_TOKENS
    spans = [(offsets[1][0], offsets[2][1], "PER", 0.9), (offsets[4][0], offsets[4][1], "LOC", 0.8)]
    task = label_studio_task(TEXT, spans=spans, score=0.7, model_version="m", data={"line": 3})
    result = task["predictions"][0]["result"]
    assert [r["value"]["text"] for r in result] == ["Maria Lopez", "東京"] and result[0]["score"] == 0.9
    assert task["data"] == {"text": TEXT, "line": 3}
    annotated = {**task, "id": 1, "annotations": [{"result": result, "was_cancelled": False}]}
    tags = ["O", "B-PER", "I-PER", "O", "B-LOC", "O", "O", "O", "O", "O"]
    assert read_annotations(_write_json(tmp_path / "ls.json", [annotated]))[0]["tags"] == tags
    record = doccano_record(TEXT, spans=spans)
    assert record["label"] == [[2, 13, "PER"], [22, 24, "LOC"]]
    assert read_annotations(_write_jsonl(tmp_path / "d.jsonl", [record]))[0]["tags"] == tags
    text, spaced = spaced_offsets(["New", "York"])
    assert text == "New York" and spans_to_tags(text, [(0, 8, "LOC")], offsets=spaced)[1] == ["B-LOC", "I-LOC"]
