"""apps.core.storable: what PostgreSQL cannot store is found and mended, and nothing else."""

import pytest

from apps.core.storable import json_mended, json_storable, text_mended


@pytest.mark.parametrize(
    ("value", "mended"),
    [
        ({"Name": "a\x00b"}, {"Name": "a\ufffdb"}),
        ({"Name": "a\ud800b"}, {"Name": "a\ufffdb"}),
        ({"a\x00": ["x", {"y": "\udfff"}]}, {"a\ufffd": ["x", {"y": "\ufffd"}]}),
        ({"Name": "a\\\x00"}, {"Name": "a\\\ufffd"}),  # a backslash, then a NUL
    ],
)
def test_nul_characters_and_lone_surrogates_become_replacement_characters(value, mended):
    assert not json_storable(value)
    assert json_mended(value) == mended
    assert json_storable(mended)


@pytest.mark.parametrize(
    "value",
    [
        {"Name": "Leskó Norbert 😀"},  # a character beyond the BMP: a valid surrogate pair
        {"Name": "\\u0000"},  # a backslash and the text u0000, not a NUL
        ["\ufffd", 1, None, 2.5],
    ],
)
def test_what_postgresql_stores_is_left_as_it_is(value):
    assert json_storable(value)
    assert json_mended(value) is value


def test_text_is_mended_the_same_way():
    assert text_mended("a\x00b\ud800c😀") == "a\ufffdb\ufffdc😀"
