"""apps.core.storable: what PostgreSQL cannot store is found and mended, and nothing else."""

import pytest

from apps.core.storable import column_fitted, json_mended, json_storable, text_mended
from apps.orders.models import OrderRecord


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


def test_a_text_is_fitted_to_its_column_and_other_values_are_left() -> None:
    subject = OrderRecord._meta.get_field("subject")
    limit = subject.max_length or 0
    order_id = OrderRecord._meta.get_field("order_id")

    assert column_fitted(subject, "a\x00b" + "x" * (limit + 10)) == "a\ufffdb" + "x" * (limit - 3)
    assert column_fitted(order_id, 42) == 42
