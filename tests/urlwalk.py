"""Every URL pattern of the project, as (view name, route, concrete URL): the walks over the
whole console (permissions, bad input, faults) start from this list, so a new URL joins them
without anyone remembering to add it."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from django.urls import URLPattern, URLResolver, get_resolver, resolve

# A value for each URL parameter of the project (ids of the doc seed where it matters).
SAMPLES = {
    "contact_id": "7505",
    "category_id": "10",
    "card_id": "2056",
    "todo_id": "1111",
    "order_id": "44",
    "item_id": "54",
    "action": "finalize",
    "name": "VarhatoLezarasDatuma",  # a date field card 2056 lists, with an edit link
    "write_id": "1",
    "job_id": "1",
    "object_id": "1",
    "content_type_id": "1",
    "id": "1",
    "app_label": "auth",
    "url": "nothing/here/",
    "slug": "no-such-hook",
}
PARAMETER = re.compile(r"<(?:(\w+):)?(\w+)>")


def _routes(
    patterns: list[URLPattern | URLResolver], prefix: str = "", namespace: str = ""
) -> Iterator[tuple[str, str]]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = pattern.namespace or ""
            joined = f"{namespace}:{inner}" if namespace and inner else inner or namespace
            yield from _routes(pattern.url_patterns, prefix + str(pattern.pattern), joined)
        else:
            name = f"{namespace}:{pattern.name}" if namespace else pattern.name or ""
            yield prefix + str(pattern.pattern), name or f"(unnamed {prefix}{pattern.pattern})"


def sample(name: str) -> str:
    """A value for a URL parameter (any other id is 1; a new kind of parameter needs one)."""
    return SAMPLES.get(name) or ("1" if name.endswith("_id") else f"<no sample for {name}>")


def concrete(route: str, value: Callable[[str], str] = sample) -> str:
    """A URL that the route matches, with a value for each parameter."""
    path = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: value(m.group(1)), route)
    path = PARAMETER.sub(lambda m: value(m.group(2)), path)
    return "/" + path.replace("^", "").replace("$", "")


def parameters(route: str) -> dict[str, str]:
    """The route's parameters and their converters (`int`, `str`, `slug`, ...)."""
    return {name: converter or "str" for converter, name in PARAMETER.findall(route)}


def all_routes() -> list[tuple[str, str]]:
    """(view name, route) of every URL pattern of the project."""
    return [(name, route) for route, name in _routes(get_resolver().url_patterns)]


def all_urls() -> list[tuple[str, str]]:
    """(view name, concrete URL) of every URL pattern of the project."""
    found = []
    for name, route in all_routes():
        url = concrete(route)
        assert resolve(url).route == route.replace("^", ""), f"{url} does not reach {route}"
        found.append((name, url))
    return found
