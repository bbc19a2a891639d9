"""The header's search: a page of results grouped by module and contact kind, and the same
results as the box's drop-down while typing (the page's `#results` partial)."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from apps.core.http import HtmxHttpRequest
from apps.search.selectors import Everywhere, contact_choices, search_everywhere
from minicrm import BadRequest

MAX_QUERY = 200


def search(request: HtmxHttpRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip()[:MAX_QUERY]
    dropdown = bool(request.htmx and request.htmx.target == "global-search-results")
    if dropdown and not q:
        return HttpResponse("")  # the box was emptied: the drop-down closes
    notice = ""
    try:
        found = search_everywhere(q=q)
    except BadRequest as refusal:
        found = Everywhere(q)
        notice = _("MiniCRM could not search for “%(q)s”: %(reason)s") % {
            "q": q,
            "reason": refusal.message,
        }
    template = "search/everywhere.html" + ("#results" if dropdown else "")
    return render(request, template, {"found": found, "q": q, "notice": notice})


def contact_options(request: HtmxHttpRequest) -> HttpResponse:
    """A contact picker's choices for what was typed in it, as <option>s of its <datalist>
    (the input sends itself, under its own name: the first value is what was typed)."""
    typed = next((str(v) for key, v in request.GET.items() if key != "kind" and v), "")
    kind = request.GET.get("kind", "")
    choices = contact_choices(q=typed.strip()[:MAX_QUERY], kind=kind)
    return render(request, "search/_contact_options.html", {"choices": choices})
