"""Every page of the console on a phone, in Debian's Chromium: 390 by 844, logged in as an
administrator (so the admin pages are walked too), in English and in Hungarian (the longer
words). No page may scroll sideways: wide tables and the board scroll inside their own box.

The pages come from the project's URL patterns (tests/urlwalk.py), filled with ids of the demo
seed and of objects made here, so a new page joins the walk by itself; what answers a GET with
something other than an HTML page (an export, a POST-only endpoint) is left out. Screenshots of
every page go to $NARROW_SHOTS when it is set (to look at them), else to the test's tmp dir.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import User
from playwright.sync_api import Page

from apps.cards.selectors import module_listed
from apps.core.models import Profile
from apps.webhooks.models import Action, Event, Handler
from apps.writes.models import BulkJob, Write
from tests.browser.conftest import eventually, log_in
from tests.urlwalk import all_routes, concrete, sample
from tests.writes.conftest import QueueRig

pytestmark = pytest.mark.browser

WIDTH, HEIGHT = 390, 844
# Not the console's pages: Django's own admin and language switch, the logout, the webhook
# receiver (it answers MiniCRM) and the favicon.
OUTSIDE = ("admin:", "logout", "set_language", "webhooks:receive", "favicon")
# The demo seed: Mátra Logisztika Zrt. (10001) and its first person (11001); "Tanácsadás #2032"
# (102032, Projektek, with the text field ProjektKod); Rendezvények (24); order 9001.
COMPANY, PERSON, CARD, MODULE, ORDER = 10001, 11001, 102032, 24, 9001
# The pages a person must be able to use on a phone: the walk fails if it missed one.
REQUIRED = {
    "core:home",
    "core:preferences",
    "core:settings",
    "contacts:search",
    "contacts:contact",
    "contacts:change",
    "contacts:add",
    "cards:changelist",
    "cards:board",
    "cards:card",
    "cards:change",
    "cards:add",
    "todos:change",
    "todos:mine",
    "orders:list",
    "orders:order",
    "orders:add",
    "writes:queue",
    "writes:job",
    "writes:audit",
    "webhooks:handlers",
    "webhooks:handler",
    "webhooks:events",
    "webhooks:event",
    "mirror:sync",
    "search:everywhere",
}
# Pages seen once more with something in them (a person besides the company, results).
EXTRA = [
    ("contacts:contact (person)", f"/contacts/{PERSON}/"),
    ("contacts:change (person)", f"/contacts/{PERSON}/change/"),
    ("contacts:search (results)", "/contacts/?q=Papp"),
    ("search:everywhere (results)", "/search/?q=tan"),
    ("cards:changelist (Projektek)", "/modules/22/"),
]
# What sticks out past the right edge of the window, for the failure message.
OVERFLOWING = """() => {
  const width = window.innerWidth;
  const outside = [], inside = [];
  const named = (element) => element.tagName.toLowerCase() + (element.id ? "#" + element.id : "") +
    (element.classList.length ? "." + Array.from(element.classList).join(".") : "");
  for (const element of document.querySelectorAll("body *")) {
    const box = element.getBoundingClientRect();
    // Its own box, or the text that runs out of it (a line that cannot wrap).
    const clips = getComputedStyle(element).overflowX !== "visible";
    const right = clips ? box.right : Math.max(box.right, box.left + element.scrollWidth);
    if (right <= width + 0.5 || box.width === 0) continue;
    let scroller = element.parentElement;
    while (scroller && scroller !== document.body &&
           getComputedStyle(scroller).overflowX === "visible") {
      scroller = scroller.parentElement;
    }
    const where = named(element) + " " + Math.round(right) + "px";
    if (scroller && scroller !== document.body) inside.push(where + " in " + named(scroller));
    else outside.push(where);
  }
  return (outside.length ? outside : inside).slice(0, 6);
}"""


def an_open_todo(rig: QueueRig) -> int:
    """An open to-do of the demo seed (its edit form is a page)."""
    for card in range(100001, 100200):
        answer = rig.sandbox.get(f"/Api/R3/ToDoList/{card}", params={"Status": "Open"})
        if answer.ok and answer.json()["Results"]:
            return int(answer.json()["Results"][0]["Id"])
    raise AssertionError("the demo seed has no open to-do in its first cards")


def objects_to_show(admin: User) -> dict[str, str]:
    """A bulk job, a failed write, a webhook handler and an event, with their ids."""
    job = BulkJob.objects.create(description="Status of 1 card", created_by=admin, total=1)
    write = Write.objects.create(
        kind=Write.Kind.PROJECT_UPDATE,
        payload={"Name": "Elutasított, nagyon hosszú nevű kártya, amely nem fér ki"},
        state=Write.State.FAILED,
        last_error="Érvénytelen érték a Megrendelésazonosító mezőben: túl hosszú szöveg",
        job=job,
        target_type="project",
        target_id=CARD,
        requested_by=admin,
    )
    handler = Handler.objects.create(name="Értesítés", slug="ertesites", category_id=MODULE)
    Action.objects.create(
        handler=handler, kind=Action.Kind.CREATE_TODO, config={"comment": "Hívd", "days": 1}
    )
    event = Event.objects.create(
        handler=handler,
        body=f'{{"Id": {CARD}, "Type": "Project"}}',
        message={"Id": CARD, "Type": "Project"},
        object_type="Project",
        object_id=CARD,
        status=Event.Status.FAILED,
    )
    return {
        "job_id": str(job.pk),
        "write_id": str(write.pk),
        "handler_id": str(handler.pk),
        "event_id": str(event.pk),
    }


def pages(values: dict[str, str]) -> list[tuple[str, str]]:
    def value(name: str) -> str:
        return values.get(name) or sample(name)

    walked = [
        (name, concrete(route, value))
        for name, route in all_routes()
        if not name.startswith(OUTSIDE)
    ]
    return walked + EXTRA


def is_a_page(page: Page, url: str) -> bool:
    """Whether a GET of the URL answers with a whole HTML page of the console."""
    answer = page.request.get(url, max_redirects=0)
    kind = answer.headers.get("content-type", "")
    attachment = "attachment" in answer.headers.get("content-disposition", "")
    return (
        answer.status == 200
        and kind.startswith("text/html")
        and not attachment
        and 'id="content"' in answer.text()
    )


@pytest.mark.parametrize("language", ["en", "hu"])
def test_no_page_scrolls_sideways_390_px_wide(
    page: Page, console_rig: QueueRig, language: str, tmp_path: Path
) -> None:
    admin = User.objects.get(username="katalin")
    admin.is_staff = True
    admin.save()
    Profile.objects.create(user=admin, minicrm_user_id=101)  # "My to-dos" lists hers
    # The worker's sync fills the mirror (beat starts it): the changelist and board at full.
    eventually(lambda: module_listed(category_id=MODULE), timeout=120)
    values = {
        "contact_id": str(COMPANY),
        "category_id": str(MODULE),
        "card_id": str(CARD),
        "todo_id": str(an_open_todo(console_rig)),
        "order_id": str(ORDER),
        "name": "ProjektKod",
        **objects_to_show(admin),
    }
    shots = Path(os.environ.get("NARROW_SHOTS") or tmp_path) / language
    shots.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": WIDTH, "height": HEIGHT})
    log_in(page)
    page.context.add_cookies(
        [
            {
                "name": django_settings.LANGUAGE_COOKIE_NAME,
                "value": language,
                "url": page.evaluate("location.origin"),
            }
        ]
    )

    checked: set[str] = set()
    wide: dict[str, Any] = {}
    for name, url in pages(values):
        if not is_a_page(page, url):
            continue
        page.goto(url)
        page.wait_for_load_state("load")
        checked.add(name)
        if page.evaluate("document.documentElement.scrollWidth > window.innerWidth"):
            wide[f"{name} {url}"] = page.evaluate(OVERFLOWING)
        page.screenshot(path=str(shots / f"{name.replace(':', '-')}.png"), full_page=True)

    assert checked >= REQUIRED, f"not walked: {sorted(REQUIRED - checked)}"
    assert wide == {}, "scroll sideways at 390 px:\n" + "\n".join(
        f"{page_name}: {', '.join(parts)}" for page_name, parts in wide.items()
    )
