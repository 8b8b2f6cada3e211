"""Fusion of model elements with OCR text, and finding text among OCR lines (pure, no models)."""

from __future__ import annotations

import pytest

from engine.ocr.reader import TextBox
from engine.text.find import TextIndex, find_text, fold, instruction_queries, normalize, squash, sub_box
from engine.text.fusion import MODEL_CONFIDENCE, ModelElement, fuse, text_of


def line(text: str, box: tuple[int, int, int, int], confidence: float = 0.99) -> TextBox:
    return TextBox(text, box, confidence)


def test_a_button_keeps_its_box_and_clicks_its_caption() -> None:
    button = ModelElement("button", "Submit", (100, 200, 220, 240))
    caption = line("Submit", (135, 210, 185, 230))
    [fused] = fuse([button], [caption])
    assert fused.source == "fused"
    assert fused.box == button.box  # the model's box is the element around the text
    assert fused.center == (160, 220)  # the click goes to the text OCR saw
    assert MODEL_CONFIDENCE < fused.confidence <= 1


def test_an_offset_model_box_is_replaced_by_the_text_box() -> None:
    # A small model often puts the box a little beside the element.
    link = ModelElement("link", "Pricing", (300, 100, 360, 118))
    text = line("Pricing", (330, 110, 395, 130))
    [fused] = fuse([link], [text])
    assert fused.source == "fused" and fused.box == text.box and fused.center == (362, 120)


def test_a_list_row_keeps_its_box_even_when_the_ocr_box_is_padded_past_it() -> None:
    # A Tk listbox row: an OCR box padded past the 22 px row must not replace the row's box.
    row = ModelElement("list item", "Banana", (259, 217, 391, 239))
    [fused] = fuse([row], [line("Banana", (252, 210, 316, 245))])
    assert fused.source == "fused" and fused.box == row.box
    assert fused.center == (284, 227)


def test_a_full_width_row_holding_a_short_text_is_that_texts_element() -> None:
    row = ModelElement("list item", "Bob", (0, 100, 800, 122))
    [fused] = fuse([row], [line("Bob", (6, 105, 31, 117))])
    assert (fused.source, fused.box, fused.center) == ("fused", row.box, (18, 111))


TABLE = [
    ["Invoice", "Customer", "Total", "Status"],
    ["INV-0042", "Ada Lovelace", "$1,234.56", "Paid"],
    ["INV-0043", "Grace Hopper", "€99.00", "Overdue"],
]


def table_cells(padding: int = 0) -> tuple[list[ModelElement], list[TextBox]]:
    """A 4x3 table of 150x22 cells (the model's boxes), each with its text's box: the ink (13 px
    tall, 6 px in), grown by ``padding`` as a text detector's box is."""
    cells, texts = [], []
    for r, row in enumerate(TABLE):
        for c, text in enumerate(row):
            x, y = 40 + c * 150, 300 + r * 22
            cells.append(ModelElement("cell", text, (x, y, x + 150, y + 22)))
            ink = (x + 6, y + 5, x + 6 + 7 * len(text), y + 18)
            texts.append(line(text, (ink[0] - padding, ink[1] - padding, ink[2] + padding, ink[3] + padding)))
    return cells, texts


@pytest.mark.parametrize("padding", [0, 7])
def test_table_cells_keep_their_boxes_and_click_their_text(padding: int) -> None:
    cells, texts = table_cells(padding)
    fused = fuse(cells, texts)
    assert len(fused) == len(cells)  # every OCR text was used by its cell: none added again
    for cell, text, got in zip(cells, texts, fused, strict=True):
        assert (got.label, got.source, got.box) == (cell.label, "fused", cell.box)
        assert got.center == ((text.box[0] + text.box[2]) // 2, (text.box[1] + text.box[3]) // 2)
        assert got.confidence > MODEL_CONFIDENCE


def test_a_table_cell_the_model_put_a_row_off_takes_the_text_box() -> None:
    _, texts = table_cells()
    paid = texts[4 + TABLE[1].index("Paid")]
    off = ModelElement("cell", "Paid", (490, 300, 640, 322))  # the header row's cell, not the one holding "Paid"
    [fused] = [f for f in fuse([off], texts) if f.label == "Paid"]
    assert fused.source == "fused" and fused.box == paid.box


def test_a_cell_barely_overlapping_its_text_takes_the_text_box() -> None:
    text = line("Overdue", (496, 354, 545, 366))
    off = ModelElement("cell", "Overdue", (530, 350, 680, 374))  # starts past the text's middle
    [fused, *_] = fuse([off], [text])
    assert fused.source == "fused" and fused.box == text.box


def test_menu_items_keep_their_boxes() -> None:
    items = [
        ModelElement("menu item", "New", (10, 30, 210, 54)),
        ModelElement("menu item", "Save As...", (10, 54, 210, 78)),
        ModelElement("menu item", "Quit", (10, 78, 210, 102)),
    ]
    texts = [line("New", (34, 36, 60, 48)), line("Save As…", (34, 60, 96, 72)), line("Quit", (34, 84, 62, 96))]
    fused = fuse(items, texts)
    assert [(f.source, f.box) for f in fused] == [("fused", item.box) for item in items]


def test_a_list_is_not_the_element_of_one_of_its_rows() -> None:
    listing = ModelElement("list", "Fruits", (20, 20, 220, 320))
    header = line("Fruits", (26, 24, 70, 36))
    first = fuse([listing], [header])[0]
    assert (first.source, first.box, first.center) == ("model", listing.box, (120, 170))


def test_labels_match_fuzzily_on_case_spacing_punctuation_and_type_words() -> None:
    model = [
        ModelElement("button", "save  AS...", (0, 0, 100, 30)),
        ModelElement("checkbox", "Remember me checkbox", (0, 50, 200, 80)),
        ModelElement("label", "Name", (0, 100, 60, 120)),
    ]
    lines = [
        line("Save As…", (10, 5, 90, 25)),
        line("Remember me", (30, 55, 150, 75)),
        line("Name:", (2, 101, 50, 119)),
    ]
    fused = fuse(model, lines)
    assert [f.source for f in fused] == ["fused", "fused", "fused"]
    assert text_of("Remember me checkbox") == "Remember me"


def test_text_the_model_missed_is_added_and_nothing_is_listed_twice() -> None:
    model = [ModelElement("button", "OK", (10, 10, 60, 40)), ModelElement("button", "OK", (11, 11, 61, 41))]
    lines = [line("OK", (25, 15, 45, 35)), line("Unsaved changes will be lost", (10, 60, 300, 80), 0.93)]
    fused = fuse(model, lines)
    assert [(f.label, f.source) for f in fused] == [("OK", "fused"), ("Unsaved changes will be lost", "ocr")]
    assert fused[1].type == "text" and fused[1].confidence == 0.93


def test_inputs_are_never_moved_onto_the_label_beside_them() -> None:
    field = ModelElement("input", "Name", (120, 100, 400, 130))
    label = line("Name:", (40, 105, 100, 125))
    fused = fuse([field], [label])
    assert fused[0].source == "model" and fused[0].box == field.box and fused[0].confidence == MODEL_CONFIDENCE
    assert fused[1].source == "ocr" and fused[1].label == "Name:"


def test_a_big_element_is_not_moved_onto_its_caption() -> None:
    # Tk calls a text area "text": its id-like label matches the "Notes:" caption beside it.
    area = ModelElement("text", "notes", (269, 242, 919, 343))
    caption = line("Notes:", (200, 246, 262, 268))
    fused = fuse([area], [caption])
    assert [(f.label, f.source, f.box) for f in fused] == [
        ("notes", "model", area.box),
        ("Notes:", "ocr", caption.box),
    ]


def test_a_far_away_match_is_used_only_when_it_is_the_only_one() -> None:
    wrong_place = ModelElement("button", "Export", (900, 900, 980, 930))
    only = fuse([wrong_place], [line("Export", (100, 40, 160, 60))])
    assert only[0].source == "fused" and only[0].center == (130, 50)
    two = fuse([wrong_place], [line("Export", (100, 40, 160, 60)), line("Export", (500, 40, 560, 60))])
    assert two[0].source == "model"


def test_unrelated_model_elements_stay_model_elements() -> None:
    icon = ModelElement("icon", "gear settings icon", (5, 5, 25, 25))
    [only] = fuse([icon], [])
    assert only.source == "model" and only.center == (15, 15)


@pytest.mark.parametrize(
    ("instruction", "queries"),
    [
        ('select "Save As..."', ["Save As..."]),
        ("click on the Submit button", ["click on the Submit button", "Submit button", "Submit"]),
        ("Cancel", ["Cancel"]),
        ("search icon", ["search icon"]),
    ],
)
def test_instruction_queries(instruction: str, queries: list[str]) -> None:
    assert instruction_queries(instruction) == queries


def test_normalisation() -> None:
    assert normalize("  Save\u00a0 As… ") == "save as..."
    assert squash("Name:") == squash("name") == "name"
    assert fold(squash("Ctrl+0")) == fold(squash("Ctrl+O"))


def test_find_prefers_a_whole_line_and_finds_parts_of_longer_lines() -> None:
    lines = [line("Save All", (0, 0, 80, 20)), line("Save", (0, 40, 40, 60)), line("File Edit View", (0, 80, 150, 100))]
    index = TextIndex(lines)
    best = index.find("save")
    assert best[0].box == (0, 40, 40, 60) and best[0].score == 1.0
    [edit] = index.find("Edit")
    assert 0 < edit.box[0] < edit.box[2] < 150 and edit.score < 1.0
    assert 50 <= edit.center[0] <= 100


def test_find_joins_neighbours_split_by_ocr_and_forgives_slips() -> None:
    lines = [line("Save", (10, 10, 50, 30)), line("As...", (56, 10, 100, 30)), line("Invoice Fiter", (0, 50, 120, 70))]
    [joined] = find_text("Save As...", lines)
    assert joined.box == (10, 10, 100, 30)
    slips = find_text("Invoice Filter", lines)
    assert slips and slips[0].box == (0, 50, 120, 70) and slips[0].score < 1.0
    assert find_text("Paste", lines) == []


def test_sub_box_uses_measured_character_positions() -> None:
    chars = (12, 20, 28, 36, 52, 60, 68, 76)  # "abcd efg": a space at 44 is not in chars' own list
    text = "abcdefgh"
    box = sub_box((0, 0, 100, 20), text, 4, 8, chars)
    assert box[0] < 52 and box[2] > 76 and box[0] > 36


def test_the_same_text_elsewhere_is_listed_as_an_alternative() -> None:
    # Two dialogs' "OK": the model named the first, OCR read both; the second is where it may be as well.
    button = ModelElement("button", "OK button", (100, 200, 160, 240))
    first, second = line("OK", (118, 210, 142, 230)), line("OK", (118, 410, 142, 430))
    [fused, other] = fuse([button], [first, second])
    assert fused.center == (130, 220) and fused.alternatives == ((130, 420),)
    assert other.source == "ocr" and other.alternatives == ()


def test_an_overruled_model_point_is_an_alternative_and_a_unique_text_has_none() -> None:
    link = ModelElement("link", "Pricing", (300, 100, 360, 118))
    [moved] = fuse([link], [line("Pricing", (330, 110, 395, 130))])
    assert moved.center == (362, 120) and moved.alternatives == ((330, 109),)  # where the model put it
    [kept] = fuse([ModelElement("button", "Submit", (100, 200, 220, 240))], [line("Submit", (135, 210, 185, 230))])
    assert kept.alternatives == ()
