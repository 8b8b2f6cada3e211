"""Choosing a text match over OCR lines (click_text/fill_input and the grounding benchmark): exact,
word-in-line, fuzzy, wrapped, ambiguous, absent, ``occurrence`` and ``near`` (pure, no display)."""

from __future__ import annotations

import pytest

from engine.ocr.reader import TextBox
from engine.text.find import TextIndex
from engine.text.locate import (
    Absent,
    Ambiguous,
    Found,
    Target,
    choose_for_instruction,
    choose_text,
    context_texts,
    instruction_targets,
)
from tools.actions.locate import TextAmbiguous, TextNotFound, candidates, find_text
from tools.errors import InvalidAction


def line(text: str, box: tuple[int, int, int, int]) -> TextBox:
    return TextBox(text, box, 0.99)


LINES = [
    line("Your name:", (100, 100, 200, 120)),
    line("Submit", (100, 300, 160, 320)),
    line("Cancel", (200, 300, 260, 320)),
    line("Save and Submit later", (100, 400, 310, 420)),
    line("Submit", (400, 500, 460, 520)),
]


def test_full_width_letters_match() -> None:
    assert find_text([line("Ｓｕｂｍｉｔ", (0, 0, 60, 20))], "submit").center == (30, 10)


def test_exact_match_beats_words_inside_longer_lines() -> None:
    match = find_text(LINES[:4], "submit")
    assert match.box == (100, 300, 160, 320) and match.center == (130, 310)


def test_word_inside_a_line_gets_its_own_part_of_the_box() -> None:
    match = find_text(LINES, "later")
    x1, _, x2, _ = match.box
    assert 100 + 210 * 16 // 21 - 2 <= x1 < x2 <= 310  # "later" is the last 5 of 21 characters
    assert match.kind == "part"


def test_label_with_colon_and_other_case() -> None:
    assert find_text(LINES, "YOUR NAME").center == (150, 110)


def test_fuzzy_match_tolerates_an_ocr_slip() -> None:
    assert find_text([line("Cancel", (0, 0, 10, 10))], "Cancell").kind == "fuzzy"


def test_ambiguous_text_lists_candidates_and_occurrence_picks() -> None:
    with pytest.raises(TextAmbiguous, match=r"appears 2 times .*occurrence") as raised:
        find_text(LINES, "Submit")
    assert [m.box for m in raised.value.candidates] == [(100, 300, 160, 320), (400, 500, 460, 520)]
    assert raised.value.occurrences == [1, 2]
    assert find_text(LINES, "Submit", occurrence=2).center == (430, 510)
    with pytest.raises(InvalidAction, match="occurrence 3 does not exist"):
        find_text(LINES, "Submit", occurrence=3)


def test_absent_text_lists_near_matches() -> None:
    with pytest.raises(TextNotFound, match=r"not visible.*'Cancel'") as raised:
        find_text(LINES, "Cancle now")
    assert raised.value.near == ["Cancel"] and not raised.value.context
    with pytest.raises(InvalidAction, match="needs visible text"):
        find_text(LINES, "  ")


# --- text as a person reads it ------------------------------------------------------------------

SIDEBAR = [  # a 190 px sidebar; "Product management" wrapped, then a main area
    line("Dashboard", (8, 100, 90, 121)),
    line("Orders", (8, 130, 60, 151)),
    line("Product", (8, 160, 61, 181)),
    line("management", (7, 174, 94, 197)),
    line("Customers", (8, 206, 84, 227)),
    line("Orders", (240, 100, 320, 124)),
    line("Export CSV", (240, 140, 330, 161)),
    line("Add customer", (360, 140, 470, 161)),
]


def test_a_wrapped_label_is_one_match_and_one_candidate() -> None:
    assert find_text(SIDEBAR, "Product management").box == (7, 160, 94, 197)
    assert [m.box for m in candidates(SIDEBAR, "Product management")] == [(7, 160, 94, 197)]
    cjk = [line("商品", (607, 8, 640, 31)), line("管理", (608, 22, 640, 46)), line("商品管理", (800, 8, 870, 31))]
    assert [m.box for m in candidates(cjk, "商品管理")] == [(607, 8, 640, 46), (800, 8, 870, 31)]


def test_text_shown_only_in_part_is_absent_with_the_part_as_a_near_match() -> None:
    with pytest.raises(TextNotFound, match=r"'Add product' is not visible.*Near matches: 'Product'") as raised:
        find_text(SIDEBAR, "Add product")
    assert "Product" in raised.value.near


# --- near: choosing among several ---------------------------------------------------------------

DEVICES = [  # a device table: name, status, and a Block button on every row (rows 32 px apart)
    line("Device", (20, 60, 80, 80)),
    line("Status", (300, 60, 360, 80)),
    *(
        item
        for row, (name, status) in enumerate(
            [("LivingRoom-TV", "Online"), ("Kitchen-Speaker", "Offline"), ("Office-Printer", "Online")]
        )
        for item in (
            line(name, (20, 100 + 32 * row, 150, 120 + 32 * row)),
            line(status, (300, 100 + 32 * row, 360, 120 + 32 * row)),
            line("Block", (600, 98 + 32 * row, 650, 122 + 32 * row)),
        )
    ),
]


def test_near_picks_the_occurrence_on_the_same_table_row() -> None:
    assert find_text(DEVICES, "Block", near="Kitchen-Speaker").box == (600, 130, 650, 154)
    assert find_text(DEVICES, "Block", near="office printer").box == (600, 162, 650, 186)
    # Equally good occurrences are still an error without near.
    with pytest.raises(TextAmbiguous, match=r"appears 3 times .*pass occurrence"):
        find_text(DEVICES, "Block")


def test_near_in_chinese_table() -> None:
    rows = [("李娜", 100), ("王伟", 136), ("张敏", 172)]
    lines = [
        item for name, y in rows for item in (line(name, (30, y, 80, y + 22)), line("重置密码", (500, y, 580, y + 22)))
    ]
    assert find_text(lines, "重置密码", near="王伟").box == (500, 136, 580, 158)


def test_the_same_row_beats_a_closer_occurrence_on_another_row() -> None:
    # OCR of a generated table: the row above shows "编辑" as its role, next to the names' column.
    lines = [
        line("黄丽", (773, 461, 795, 472)),
        line("编辑", (820, 461, 842, 472)),
        line("编辑", (912, 461, 934, 472)),
        line("陈静", (773, 515, 795, 526)),
        line("访客", (820, 515, 841, 526)),
        line("编辑", (912, 515, 934, 526)),
    ]
    assert find_text(lines, "编辑", near="陈静").box == (912, 515, 934, 526)
    # With none on its row or column, the closest occurrence is chosen.
    assert find_text(lines[:3] + lines[3:5], "编辑", near="陈静").box == (820, 461, 842, 472)


def test_near_picks_the_sidebar_or_the_main_area() -> None:
    assert find_text(SIDEBAR, "Orders", near="Customers").box == (8, 130, 60, 151)
    assert find_text(SIDEBAR, "Orders", near="Export CSV").box == (240, 100, 320, 124)
    assert find_text(SIDEBAR, "Orders", near="Product management").box == (8, 130, 60, 151)


def test_near_that_appears_several_times_takes_the_closest_pair() -> None:
    # "Online" is on rows 1 and 3: the Block buttons of rows 1 and 3 are equally close: a tie.
    with pytest.raises(TextAmbiguous, match=r"appears 2 times equally close to 'Online'") as raised:
        find_text(DEVICES, "Block", near="Online")
    assert raised.value.occurrences == [1, 3]
    # "Offline" is on row 2 only; "Status" (the header) is closest to row 1.
    assert find_text(DEVICES, "Block", near="Offline").box == (600, 130, 650, 154)
    assert find_text(DEVICES, "Block", near="Status").box == (600, 98, 650, 122)


def test_near_must_be_visible_and_cannot_be_combined_with_occurrence() -> None:
    with pytest.raises(TextNotFound, match=r"near text 'Garage Camera' is not visible") as raised:
        find_text(DEVICES, "Block", near="Garage Camera")
    assert raised.value.context and raised.value.text == "Garage Camera"
    with pytest.raises(TextNotFound, match=r"near text 'Kitchen Radio' is not visible.*'Kitchen-Speaker'"):
        find_text(DEVICES, "Blockk", near="Kitchen Radio")
    with pytest.raises(InvalidAction, match="either occurrence or near"):
        find_text(DEVICES, "Block", occurrence=1, near="Kitchen-Speaker")
    # The target's own absence is reported first; a blank near is no near.
    with pytest.raises(TextNotFound, match=r"text 'Unblock' is not visible"):
        find_text(DEVICES, "Unblock", near="nowhere")
    assert find_text(DEVICES, "Kitchen-Speaker", near=" ").box == (20, 132, 150, 152)


def test_ties_within_a_few_pixels_stay_ambiguous() -> None:
    lines = [line("Help", (100, 100, 140, 120)), line("Help", (300, 100, 340, 120)), line("Docs", (200, 100, 240, 120))]
    with pytest.raises(TextAmbiguous):
        find_text(lines, "Help", near="Docs")
    lines[2] = line("Docs", (190, 100, 230, 120))  # now 10 px closer to the first
    assert find_text(lines, "Help", near="Docs").box == (100, 100, 140, 120)


# --- the same rule for the benchmark: typed outcomes, positions, instructions --------------------


def test_choose_text_returns_typed_outcomes() -> None:
    index = TextIndex(DEVICES)
    assert isinstance(choose_text(index, "Block", near="Kitchen-Speaker"), Found)
    ambiguous = choose_text(index, "Block")
    assert isinstance(ambiguous, Ambiguous) and ambiguous.occurrences == (1, 2, 3) and ambiguous.near is None
    absent = choose_text(index, "Kitchen Speeker")
    assert isinstance(absent, Found)  # an OCR slip in the query still finds it
    absent = choose_text(index, "Garage-Camera")
    assert isinstance(absent, Absent) and not absent.context


def test_where_picks_the_leftmost_lowest_and_so_on() -> None:
    index = TextIndex(SIDEBAR)
    found = choose_text(index, "Orders", where="left")
    assert isinstance(found, Found) and found.match.box == (8, 130, 60, 151)
    found = choose_text(index, "Orders", where="top")
    assert isinstance(found, Found) and found.match.box == (240, 100, 320, 124)
    lines = [line("Help", (10, 10, 50, 30)), line("Help", (12, 400, 52, 420))]
    found = choose_text(TextIndex(lines), "Help", where="bottom")
    assert isinstance(found, Found) and found.match.box == (12, 400, 52, 420)
    assert isinstance(choose_text(TextIndex(lines), "Help", where="left"), Ambiguous)  # 2 px apart: a tie


@pytest.mark.parametrize(
    ("instruction", "targets"),
    [
        ("Block for the device LivingRoom-TV", [Target("Block", "device LivingRoom-TV")]),
        ("重置密码 for user 李娜", [Target("重置密码", "user 李娜")]),
        ("Orders in the left sidebar", [Target("Orders", "left sidebar", "left")]),
        ("Help at the bottom of the form", [Target("Help", "bottom of the form", "bottom")]),
        ("the api.ts editor tab", [Target("api.ts", "editor tab", "top")]),
        ('click "Delete" next to Alice Johnson', [Target("Delete", "click Alice Johnson")]),
        ("Submit", []),
    ],
)
def test_instruction_targets(instruction: str, targets: list[Target]) -> None:
    assert instruction_targets(instruction) == targets


def test_context_texts_drop_filler_and_place_words() -> None:
    assert context_texts("device LivingRoom-TV") == ["LivingRoom-TV"]
    assert context_texts("row of Alice Johnson") == ["Alice Johnson", "Alice", "Johnson"]
    assert context_texts("bottom of the form") == []


def test_instructions_with_context_choose_like_click_text() -> None:
    devices = TextIndex(DEVICES)
    found = choose_for_instruction(devices, "click Block for the device Office-Printer")
    assert isinstance(found, Found) and found.match.box == (600, 162, 650, 186)
    assert isinstance(choose_for_instruction(devices, "Block"), Ambiguous)
    assert isinstance(choose_for_instruction(devices, "Block for the device Garage-Camera"), Ambiguous)
    found = choose_for_instruction(TextIndex(SIDEBAR), "Orders in the left sidebar")
    assert isinstance(found, Found) and found.match.box == (8, 130, 60, 151)
    found = choose_for_instruction(TextIndex(SIDEBAR), "the Orders heading on the right")
    assert isinstance(found, Found) and found.match.box == (240, 100, 320, 124)
    found = choose_for_instruction(TextIndex(SIDEBAR), "Product management")
    assert isinstance(found, Found) and found.match.box == (7, 160, 94, 197)
    # A text shown once needs no context, even when the instruction names some.
    found = choose_for_instruction(TextIndex(SIDEBAR), "Export CSV in the toolbar")
    assert isinstance(found, Found) and found.match.text == "Export CSV"
    assert isinstance(choose_for_instruction(TextIndex(SIDEBAR), "Add product"), Absent)
