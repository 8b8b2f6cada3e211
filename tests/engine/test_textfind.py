"""Finding text among OCR lines as a person reads it: wrapped texts are one match, fragments are none (pure)."""

from __future__ import annotations

import pytest

from engine.ocr.reader import TextBox
from engine.text.find import TextIndex


def line(text: str, box: tuple[int, int, int, int]) -> TextBox:
    return TextBox(text, box, 0.99)


def find(lines: list[TextBox], query: str) -> list[tuple[str, tuple[int, int, int, int], str]]:
    return [(m.text, m.box, m.kind) for m in TextIndex(lines).find(query)]


# Boxes as the OCR engine read them on Tk labels (tight leading: wrapped lines' boxes overlap).
SIDEBAR = [
    line("Dashboard", (8, 100, 90, 121)),
    line("Orders", (8, 130, 60, 151)),
    line("Product", (8, 160, 61, 181)),
    line("management", (7, 174, 94, 197)),
    line("Settings", (8, 206, 70, 227)),
]


def test_a_wrapped_text_is_one_match_whose_box_is_the_union_of_its_lines() -> None:
    assert find(SIDEBAR, "Product management") == [("Product management", (7, 160, 94, 197), "line")]
    assert find(SIDEBAR, "product  MANAGEMENT")[0][1] == (7, 160, 94, 197)
    # Each line on its own is still itself.
    assert find(SIDEBAR, "Product") == [("Product", (8, 160, 61, 181), "line")]


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (("Product", (323, 9, 378, 30)), ("management", (307, 23, 394, 46))),  # centred, Tk's tight leading
        (("Product", (10, 100, 70, 120)), ("management", (10, 131, 100, 151))),  # left, gap 0.55 x height
        (("Product", (160, 100, 220, 120)), ("management", (130, 104 + 20, 220, 144))),  # right-aligned
    ],
)
def test_wrapped_text_aligned_left_centred_or_right(first: tuple[str, tuple], second: tuple[str, tuple]) -> None:
    lines = [line(*first), line(*second)]
    [(text, box, kind)] = find(lines, "Product management")
    assert kind == "line" and text == "Product management"
    assert box == (min(first[1][0], second[1][0]), first[1][1], max(first[1][2], second[1][2]), second[1][3])


def test_wrapped_cjk_joins_without_a_space() -> None:
    lines = [line("商品", (607, 8, 640, 31)), line("管理", (608, 22, 640, 46)), line("订单", (607, 60, 640, 83))]
    assert find(lines, "商品管理") == [("商品管理", (607, 8, 640, 46), "line")]
    assert find(lines, "商品 管理")[0][1] == (607, 8, 640, 46)


def test_three_wrapped_lines_a_hyphenated_break_and_a_part_across_lines() -> None:
    lines = [
        line("Subscribe to", (10, 10, 100, 30)),
        line("our weekly", (10, 34, 84, 54)),
        line("newsletter", (10, 58, 86, 78)),
    ]
    assert find(lines, "Subscribe to our weekly newsletter") == [
        ("Subscribe to our weekly newsletter", (10, 10, 100, 78), "line")
    ]
    [(text, box, kind)] = find(lines, "to our weekly")
    assert kind == "part" and text == "to our weekly"
    assert box[:2] == (10, 10) and box[3] == 54 and box[2] > 90  # "to" ending line 1, and all of line 2
    hyphenated = [line("Account manage-", (10, 10, 130, 30)), line("ment", (10, 34, 48, 54))]
    assert find(hyphenated, "account management")[0][1:] == ((10, 10, 130, 54), "line")


@pytest.mark.parametrize(
    "second",
    [
        line("management", (8, 181 + 26, 94, 181 + 47)),  # a blank line's height below: a separate text
        line("management", (8, 184, 150, 224)),  # twice the font size
        line("management", (120, 182, 210, 203)),  # neither left, centre nor right aligned
        line("management", (200, 161, 290, 182)),  # on the same row, far to the right
    ],
)
def test_lines_that_do_not_read_as_one_wrapped_text(second: TextBox) -> None:
    assert find([line("Product", (8, 160, 61, 181)), second], "Product management") == []


def test_a_fragment_of_the_query_is_never_a_match() -> None:
    # "Product" (sidebar) is all the screen shows of "Add product": absent, not a near match.
    assert find(SIDEBAR, "Add product") == []
    assert find([line("Sign", (0, 0, 40, 20))], "Sign in") == []
    assert find([line("Export as", (0, 0, 80, 20))], "Export as PDF") == []
    assert find([line("Product", (0, 0, 60, 20)), line("Help", (0, 40, 40, 60))], "Product management") == []
    assert find([line("重置", (0, 0, 40, 20))], "重置密码") == []
    assert find([line("Block", (0, 0, 50, 20))], "Unblock") == []
    assert find([line("blocked user", (0, 0, 100, 20))], "Unblocked user") == []


def test_what_was_right_stays_right() -> None:
    toolbar = [line("New Open Save", (0, 0, 130, 20))]
    [(text, _, kind)] = find(toolbar, "Save")
    assert (text, kind) == ("Save", "part")
    assert find([line("Invoice Fiter", (0, 0, 120, 20))], "Invoice Filter")[0][2] == "fuzzy"
    assert find([line("Setings", (0, 0, 60, 20))], "Settings")[0][2] == "fuzzy"
    assert find([line("Subrnit", (0, 0, 60, 20))], "Submit") == []  # two slips in six letters: too far
    assert find([line("Cancel", (0, 0, 60, 20))], "Cancell")[0][2] == "fuzzy"
    assert find([line("Ctrl+0", (0, 0, 60, 20))], "Ctrl+O")[0][2] == "line"
    assert find([line("Fi1e", (0, 0, 60, 20))], "File")[0][2] == "line"
    assert find([line("Name:", (0, 0, 60, 20))], "Name")[0][2] == "line"
    assert find([line("Name", (0, 0, 60, 20))], "Name:")[0][2] == "line"
    # Punctuation that differs on both sides is another text: "Ctrl+-" is only a near match for "Ctrl+=".
    shortcuts = [line("Ctrl+=", (0, 0, 60, 20)), line("Ctrl+-", (0, 30, 60, 50)), line("Ctrl+,", (0, 60, 60, 80))]
    assert [(m[1], m[2]) for m in find(shortcuts, "Ctrl+=")] == [
        ((0, 0, 60, 20), "line"),
        ((0, 30, 60, 50), "fuzzy"),
        ((0, 60, 60, 80), "fuzzy"),
    ]
    assert find([line("重置密", (0, 0, 60, 20))], "重置密码")[0][2] == "fuzzy"
    # A near match inside a longer line keeps its own sub-box.
    [(text, box, kind)] = find([line("Show Invoice Fiter now", (0, 0, 220, 20))], "Invoice Filter")
    assert kind == "fuzzy" and text == "Invoice Fiter" and 20 < box[0] < box[2] < 200


def test_texts_lists_lines_and_wrapped_texts_in_reading_order() -> None:
    texts = TextIndex(SIDEBAR).texts()
    assert texts[:5] == ["Dashboard", "Orders", "Product", "management", "Settings"]
    assert "Product management" in texts[5:]
