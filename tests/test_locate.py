"""Choosing a text match for click_text/fill_input over OCR lines: exact, word-in-line, fuzzy, ambiguous, absent."""

from __future__ import annotations

import pytest

from engine.ocr import TextBox
from tools.errors import InvalidAction
from tools.locate import find_text


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
    with pytest.raises(InvalidAction, match=r"appears 2 times .*occurrence"):
        find_text(LINES, "Submit")
    assert find_text(LINES, "Submit", occurrence=2).center == (430, 510)
    with pytest.raises(InvalidAction, match="occurrence 3 does not exist"):
        find_text(LINES, "Submit", occurrence=3)


def test_absent_text_lists_near_matches() -> None:
    with pytest.raises(InvalidAction, match=r"not visible.*'cancel'"):
        find_text(LINES, "Cancle now")
    with pytest.raises(InvalidAction, match="needs visible text"):
        find_text(LINES, "  ")
