"""The console's template helpers."""

from __future__ import annotations

from apps.core.templatetags.console import choice_options
from tests.viewsupport import dom


def test_choice_options_escape_labels_and_choose_the_selected_one() -> None:
    html = choice_options([(1, "Érdeklődő"), (2, "<b>Tom & Jerry</b>")], 2)

    select = dom(f"<select>{html}</select>").find("select")
    assert select.options() == [("1", "Érdeklődő", False), ("2", "<b>Tom & Jerry</b>", True)]
    assert "<b>" not in html
