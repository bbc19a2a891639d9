"""Page numbers of the console's paged lists (the changelist, the contact search): the `p` of
an address, and a page past the end turned into the last page."""

from __future__ import annotations

from minicrm.types import PAGE_SIZE


def last_page(count: int, page_size: int = PAGE_SIZE) -> int:
    """The last page (from 0) of a list of `count` items; 0 for an empty list."""
    return max(0, -(-count // page_size) - 1)


def page_within(page: int, count: int, page_size: int = PAGE_SIZE) -> int:
    """A page (from 0) that exists: past the end the last one, below 0 the first."""
    return min(max(page, 0), last_page(count, page_size))
