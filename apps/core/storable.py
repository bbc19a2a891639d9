"""What PostgreSQL can store: its text holds no NUL character, and its jsonb neither a NUL nor
a lone UTF-16 surrogate (SQLite keeps both). Text and JSON from outside (webhook deliveries,
JSON a browser sends back) are checked or mended with these before they are saved; a text is
also cut to its column, which PostgreSQL does not stretch."""

from __future__ import annotations

import json
import re
from typing import Any

from django.db import models

REPLACEMENT = "\ufffd"
# In JSON dumped with ensure_ascii=False a NUL is the escape \u0000 (after an even number of
# backslashes: not an escaped backslash), and a lone surrogate is the code point itself
# (json.loads joins the valid pairs).
_NUL_ESCAPE = re.compile(r"(?<!\\)((?:\\\\)*)\\u0000")
_SURROGATE = re.compile("[\ud800-\udfff]")


def text_mended(text: str) -> str:
    """`text` with NUL characters and lone surrogates replaced by U+FFFD."""
    return _SURROGATE.sub(REPLACEMENT, text.replace("\x00", REPLACEMENT))


def json_storable(value: Any) -> bool:
    """Whether a JSON value can be stored in jsonb as it is."""
    dumped = json.dumps(value, ensure_ascii=False)
    return not (_NUL_ESCAPE.search(dumped) or _SURROGATE.search(dumped))


def json_mended(value: Any) -> Any:
    """A JSON value with NUL characters and lone surrogates in its strings (and keys) replaced
    by U+FFFD; the value itself when it has none."""
    dumped = json.dumps(value, ensure_ascii=False)
    mended = _SURROGATE.sub(REPLACEMENT, _NUL_ESCAPE.sub(r"\1\\ufffd", dumped))
    return value if mended == dumped else json.loads(mended)


def column_fitted(field: Any, value: Any) -> Any:
    """A value from outside made storable in a model's field: in a text column, NUL characters
    and lone surrogates mended and the text cut to the column's length (PostgreSQL refuses a
    longer text, SQLite would store it whole); anything else as it is."""
    if not isinstance(field, models.CharField | models.TextField) or not isinstance(value, str):
        return value
    value = text_mended(value)
    return value[: field.max_length] if field.max_length else value
