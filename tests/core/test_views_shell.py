"""What every page of the console shares: the header's budget gauge and pending writes, the
modules in the navigation, global search, time-zone preferences and the settings page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import redis
from django.contrib.auth.models import User
from django.contrib.staticfiles import finders
from django.test import Client

from apps.core.middleware import TIMEZONE_SESSION_KEY
from apps.core.minicrm import minicrm_budget
from apps.core.selectors import minicrm_user_id
from apps.mirror.models import Module as MirrorModule
from apps.writes.models import Write
from minicrm import Priority
from tests.conftest import Sandbox
from tests.viewsupport import Node, dom, form_data, is_full_page, logged_in, messages_of

pytestmark = pytest.mark.django_db

SCHEMA_KEY = "minicrm:schema:12345:Project/10"


def make_write(state: str = Write.State.QUEUED, user: User | None = None) -> Write:
    return Write.objects.create(
        kind=Write.Kind.PROJECT_UPDATE,
        target_type="project",
        target_id=2056,
        payload={"VarhatoArbevetel": 1},
        state=state,
        requested_by=user,
    )


CONSOLE_CSS = Path(__file__).resolve().parents[2] / "static" / "css" / "console.css"
UNSTYLED_TYPES = {"hidden", "submit", "checkbox", "radio", "search"}  # search: the header's own


def styled_input_types() -> set[str]:
    """The input types of console.css's rule for form controls (the one that styles selects)."""
    for rule in CONSOLE_CSS.read_text().split("}"):
        selectors = [s.strip() for s in rule.split("{")[0].split(",")]
        if "select" in selectors and "textarea" in selectors:
            return {m for s in selectors for m in re.findall(r'input\[type="([^"]+)"\]', s)}
    raise AssertionError("console.css has no rule for form controls")


# -- the header -----------------------------------------------------------------------------


def test_header_shows_the_budget_used_this_minute(user_client: Client, doc: Sandbox) -> None:
    user_client.get("/")  # reads the modules once; later pages take them from the cache
    budget = minicrm_budget()
    for _ in range(7):
        assert budget.try_acquire(Priority.BULK).granted
    used = budget.usage().used

    page = dom(user_client.get("/queue/"))  # a page that asks MiniCRM nothing

    gauge = page.by_id("console-status").find("a", class_="gauge")
    assert page.by_id("budget-used").text == f"{used}/180"
    meter = gauge.find("span", role="meter")
    assert (meter.attrs["aria-valuenow"], meter.attrs["aria-valuemax"]) == (str(used), "180")
    # The fill's width is a class in 5 % steps (the CSP allows no style attribute).
    fill = meter.find("span")
    assert f"w{round(round(100 * used / 180) / 5)}" in fill.classes
    assert "style" not in fill.attrs
    assert gauge.attrs["title"] == f"{used} of 180 MiniCRM requests used in the last 60 s"
    assert gauge.attrs["href"] == "/queue/"


def test_header_shows_pending_changes_and_mine_that_failed(
    user_client: Client, doc: Sandbox, staff_user: User
) -> None:
    assert dom(user_client.get("/")).by_id("pending-writes").text == "0 changes pending"
    make_write()
    make_write(Write.State.SENDING)
    make_write(Write.State.DONE)
    make_write(Write.State.FAILED, user=staff_user)
    make_write(Write.State.FAILED)  # someone else's

    page = dom(user_client.get("/"))

    pending = page.by_id("pending-writes")
    assert pending.text == "2 changes pending"
    assert "busy" in pending.classes
    mine = page.find("a", class_="failed-writes")
    assert (mine.text, mine.attrs["href"]) == ("1 change needs you", "/queue/?mine=1")


def test_one_pending_change_is_singular(user_client: Client, doc: Sandbox) -> None:
    make_write()

    assert dom(user_client.get("/")).by_id("pending-writes").text == "1 change pending"


def test_status_partial_is_the_header_gauge_alone(user_client: Client, doc: Sandbox) -> None:
    make_write()

    response = user_client.get("/status/")

    assert response.status_code == 200
    assert not is_full_page(response)
    status = dom(response).find("div")
    assert status.id == "console-status"
    assert (status.attrs["hx-get"], status.attrs["hx-trigger"]) == (
        "/status/",
        "every 15s, writes-changed from:body",
    )
    assert status.find("a", id="pending-writes").text == "1 change pending"
    assert status.has(id="budget-used")


def test_header_says_when_redis_is_away(user_client: Client, doc: Sandbox, settings) -> None:
    user_client.get("/")
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there

    response = user_client.get("/status/")

    assert response.status_code == 200
    assert "Budget unknown: Redis cannot be reached." in dom(response).by_id("console-status").text


def test_navigation_lists_minicrm_s_modules_in_their_order(
    user_client: Client, doc: Sandbox
) -> None:
    nav = dom(user_client.get("/")).by_id("nav-modules")

    assert [(a.text, a.attrs["href"]) for a in nav.find_all("a")] == [
        ("Értékesítés", "/modules/10/"),
        ("Ügyfélszolgálat", "/modules/5/"),
        ("Projektek", "/modules/6/"),
        ("Megrendelés", "/modules/7/"),
        ("Webshop", "/modules/8/"),
        ("Számlázó", "/modules/9/"),
        ("Partnerek", "/modules/3/"),
    ]


def test_dashboard_offers_each_module_and_the_queue(user_client: Client, doc: Sandbox) -> None:
    make_write()
    make_write(Write.State.FAILED)

    page = dom(user_client.get("/"))

    modules = page.by_id("modules")
    assert modules.links()["/modules/10/add/"] == "Add card"
    queue = page.by_id("queue-box").find("tbody").find_all("tr")
    assert [(row.find("th").text, row.find("td").text) for row in queue[:2]] == [
        ("Pending", "1"),
        ("Failed or in conflict", "1"),
    ]


# -- the favicon ------------------------------------------------------------------------------


def icon_of(response) -> str:
    icon = dom(response).find("link", rel="icon")
    assert icon.attrs["type"] == "image/svg+xml"
    return icon.attrs["href"]


def test_every_page_and_the_login_page_link_the_favicon(hungarian: Client, doc: Sandbox) -> None:
    assert icon_of(hungarian.get("/")) == "/static/favicon.svg"
    hungarian.logout()
    assert icon_of(hungarian.get("/accounts/login/")) == "/static/favicon.svg"


def test_favicon_ico_answers_with_the_svg_mark_without_a_login(client: Client) -> None:
    response = client.get("/favicon.ico")

    assert response.status_code == 302  # not permanent: the static address may change
    assert response["Location"] == "/static/favicon.svg"
    found = finders.find("favicon.svg")
    assert found, "static/favicon.svg is missing"
    with open(found, encoding="utf-8") as svg:
        mark = svg.read()
    assert mark.startswith('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"')
    assert mark.rstrip().endswith("</svg>")


# -- preferences: the user's time zone -------------------------------------------------------


def status_updated_at(client: Client) -> tuple[str, str]:
    """How the card page shows card 2056's StatusUpdatedAt (2018-02-14 14:12:41 in Budapest)."""
    record = dom(client.get("/cards/2056/")).find("div", class_="record")
    row = next(tr for tr in record.find_all("tr") if tr.find("th").text == "Status updated at")
    when = row.find("time")
    return when.attrs["datetime"], when.text


def test_times_are_shown_in_budapest_by_default(user_client: Client, doc: Sandbox) -> None:
    assert status_updated_at(user_client) == ("2018-02-14T14:12:41+01:00", "2018-02-14 14:12")


def test_choosing_a_time_zone_changes_how_times_are_shown(
    user_client: Client, doc: Sandbox
) -> None:
    response = user_client.post("/preferences/", {"timezone": "Europe/London"}, follow=True)

    assert "Times are now shown in Europe/London." in messages_of(response)
    london = dom(response).by_id("id_timezone")
    assert [v for v, _, selected in london.options() if selected] == ["Europe/London"]
    assert status_updated_at(user_client) == ("2018-02-14T13:12:41+00:00", "2018-02-14 13:12")
    history = dom(user_client.get("/cards/29592/")).by_id("status-history").find("time")
    assert history.text == "2018-07-18 00:44"  # 01:44 in Budapest, summer time in both

    user_client.post("/preferences/", {"timezone": "Europe/Budapest"})
    assert status_updated_at(user_client) == ("2018-02-14T14:12:41+01:00", "2018-02-14 14:12")


def test_time_zone_also_applies_to_the_edit_form(user_client: Client, doc: Sandbox) -> None:
    user_client.post("/preferences/", {"timezone": "Asia/Tokyo"})

    form = dom(user_client.get("/cards/2056/change/")).find("form", class_="schema-form")

    # 13:00 in Budapest is 21:00 in Tokyo.
    assert (
        form.find("input", name="KovetkezoHivasIdpontja")
        .attrs["value"]
        .startswith("2018-02-16T21:00")
    )


def test_an_unknown_time_zone_is_refused(user_client: Client, doc: Sandbox) -> None:
    response = user_client.post("/preferences/", {"timezone": "Mars/Olympus"})

    assert response.status_code == 200
    assert "Choose a time zone from the list." in messages_of(response)
    assert status_updated_at(user_client)[0] == "2018-02-14T14:12:41+01:00"


def preferences_form(client: Client) -> Node:
    content = dom(client.get("/preferences/")).by_id("content")
    forms = content.find_all("form")
    assert [form.id for form in forms] == ["preferences-form"]  # one form
    return forms[0]


def test_preferences_are_one_form_with_one_save(user_client: Client, doc: Sandbox) -> None:
    form = preferences_form(user_client)

    assert [b.text for b in form.find_all("button")] == ["Save"]
    assert {"language", "timezone", "minicrm_user"} <= set(form_data(form))


def test_saving_one_preference_keeps_the_others(
    user_client: Client, doc: Sandbox, staff_user: User
) -> None:
    user_client.post("/preferences/", form_data(preferences_form(user_client), minicrm_user="3200"))
    assert minicrm_user_id(user=staff_user) == 3200

    response = user_client.post(
        "/preferences/",
        form_data(preferences_form(user_client), timezone="Asia/Tokyo"),
        follow=True,
    )

    assert messages_of(response) == ["Times are now shown in Asia/Tokyo."]
    assert minicrm_user_id(user=staff_user) == 3200  # the first Save used to drop it
    form = preferences_form(user_client)
    assert [v for v, _, selected in form.find(name="minicrm_user").options() if selected] == [
        "3200"
    ]
    assert [v for v, _, selected in form.find(name="language").options() if selected] == ["en"]
    # A submission with one field alone changes that one only.
    user_client.post("/preferences/", {"timezone": "Europe/London"})
    assert minicrm_user_id(user=staff_user) == 3200
    user_client.post("/preferences/", {"minicrm_user": "3200"})
    assert user_client.session[TIMEZONE_SESSION_KEY] == "Europe/London"
    # Saving unchanged says so and changes nothing.
    unchanged = user_client.post(
        "/preferences/", form_data(preferences_form(user_client)), follow=True
    )
    assert messages_of(unchanged) == ["Saved."]
    assert user_client.session[TIMEZONE_SESSION_KEY] == "Europe/London"
    assert minicrm_user_id(user=staff_user) == 3200


def test_the_language_is_a_preference_too_and_keeps_the_others(
    user_client: Client, doc: Sandbox, staff_user: User
) -> None:
    user_client.post("/preferences/", {"minicrm_user": "3200", "timezone": "Asia/Tokyo"})

    response = user_client.post(
        "/preferences/", form_data(preferences_form(user_client), language="hu"), follow=True
    )

    assert messages_of(response) == ["Mentve."]
    page = dom(response)
    assert page.find("html").attrs["lang"] == "hu"
    assert page.by_id("content").find("h1").text == "Saját beállítások"
    form = page.by_id("preferences-form")
    assert [b.text for b in form.find_all("button")] == ["Mentés"]
    assert [v for v, _, selected in form.find(name="timezone").options() if selected] == [
        "Asia/Tokyo"
    ]
    assert minicrm_user_id(user=staff_user) == 3200


def zone_options(client: Client) -> list[str]:
    """The zones of the "All" group of the time-zone select, in order."""
    select = preferences_form(client).find(name="timezone")
    groups = select.find_all("optgroup")
    return [option.attrs["value"] for option in groups[-1].find_all("option")]


def test_the_time_zones_offered_are_the_canonical_ones_sorted(
    hungarian: Client, doc: Sandbox
) -> None:
    zones = zone_options(hungarian)

    assert 300 < len(zones) < 450
    assert zones[0] == "UTC"
    assert zones[1:] == sorted(zones[1:])
    assert "Europe/Budapest" in zones and "America/New_York" in zones
    aliases = {"US/Eastern", "Etc/GMT+3", "Zulu", "GMT", "Europe/Kiev", "Asia/Calcutta"}
    assert not aliases & set(zones)
    assert all(zone == "UTC" or "/" in zone for zone in zones)
    common = preferences_form(hungarian).find(name="timezone").find("optgroup")
    assert common.find("option").attrs["value"] == "Europe/Budapest"  # first, and chosen
    assert "selected" in common.find("option").attrs


def test_a_time_zone_chosen_before_as_an_alias_is_still_accepted(
    user_client: Client, doc: Sandbox
) -> None:
    session = user_client.session
    session[TIMEZONE_SESSION_KEY] = "US/Eastern"
    session.save()

    form = preferences_form(user_client)
    assert [v for v, _, selected in form.find(name="timezone").options() if selected] == [
        "US/Eastern"
    ]
    response = user_client.post("/preferences/", form_data(form), follow=True)

    assert messages_of(response) == ["Saved."]
    assert user_client.session[TIMEZONE_SESSION_KEY] == "US/Eastern"
    assert zone_options(user_client)[-1] == "US/Eastern"  # offered while it is chosen


# -- settings (administrators only) ---------------------------------------------------------


def test_settings_page_is_for_administrators_only(
    client: Client, doc: Sandbox, staff_user: User, admin_account: User
) -> None:
    assert logged_in(client, staff_user).get("/settings/").status_code == 403

    response = logged_in(client, admin_account).get("/settings/")

    assert response.status_code == 200
    backend = dom(response).by_id("minicrm-backend")
    assert doc.base_url in backend.text
    assert "180 requests per 60 seconds" in backend.text
    assert doc.api_key not in response.content.decode()


def schema_held(redis_url: str) -> bool:
    """The console holds the sales module's fields: in the read cache, or in the mirror."""
    cached = redis.Redis.from_url(redis_url).exists(SCHEMA_KEY)
    return bool(cached) or MirrorModule.objects.filter(pk=10, schema__isnull=False).exists()


@pytest.mark.parametrize("mirror", [True, False], ids=["mirror", "no-mirror"])
def test_refresh_schema_drops_the_held_schema(
    client: Client, doc: Sandbox, admin_account: User, redis_url: str, settings, mirror: bool
) -> None:
    settings.MIRROR_ENABLED = mirror
    logged_in(client, admin_account)
    client.get("/cards/2056/")  # reads and keeps the module's fields
    assert schema_held(redis_url)

    response = client.post("/settings/schema/refresh/")

    assert (response.status_code, response["Location"]) == (302, "/settings/")
    assert not schema_held(redis_url)
    assert not redis.Redis.from_url(redis_url).exists("minicrm:schema:12345:Person")
    # Settings, where it leads, lists the first module's fields (for their labels) afresh.
    settings_page = client.get("/settings/")
    assert "MiniCRM's fields and dropdown values will be read again." in messages_of(settings_page)
    # The next card page reads them again.
    client.get("/cards/2056/")
    assert schema_held(redis_url)


def test_refresh_schema_is_refused_to_non_administrators(
    user_client: Client, doc: Sandbox, redis_url: str
) -> None:
    user_client.get("/cards/2056/")

    response = user_client.post("/settings/schema/refresh/")

    assert response.status_code == 403
    assert schema_held(redis_url)


def test_refresh_schema_needs_a_post(client: Client, doc: Sandbox, admin_account: User) -> None:
    assert logged_in(client, admin_account).get("/settings/schema/refresh/").status_code == 405


# -- ids in URLs, query strings and hidden fields ----------------------------------------------

BAD_IDS = ["²", "١٢", "0", "-1", str(2**63), str(2**64 + 1), "12a", " 7", "9" * 40]


@pytest.mark.parametrize("bad", BAD_IDS)
def test_a_bad_customer_or_company_id_is_ignored_with_a_message(
    user_client: Client, doc: Sandbox, bad: str
) -> None:
    order = user_client.get("/orders/add/", {"customer": bad})
    person = user_client.get("/contacts/add/", {"type": "Person", "business": bad})

    assert order.status_code == 200
    assert dom(order).find("input", name="customer").attrs.get("value", "") == ""
    assert messages_of(order) == ["The customer in the address is not a contact id."]
    assert person.status_code == 200
    assert messages_of(person) == ["No such company: the person is added without one."]


@pytest.mark.parametrize("bad", BAD_IDS)
def test_a_bad_minicrm_user_in_preferences_is_refused(
    user_client: Client, doc: Sandbox, bad: str
) -> None:
    response = user_client.post("/preferences/", {"minicrm_user": bad}, follow=True)

    assert response.status_code == 200
    assert messages_of(response) == ["Choose one of MiniCRM's users from the list."]


@pytest.mark.parametrize(
    "path",
    ["/cards/{}/", "/contacts/{}/", "/orders/{}/", "/todos/{}/change/", "/queue/jobs/{}/"],
)
def test_an_id_past_64_bits_in_a_url_is_not_found(
    user_client: Client, doc: Sandbox, path: str
) -> None:
    assert user_client.get(path.format(2**64 + 1)).status_code == 404
    assert user_client.get(path.format(2**63)).status_code == 404


def test_every_input_type_the_forms_use_is_styled_like_a_text_box(
    user_client: Client, doc: Sandbox
) -> None:
    pages = ["/cards/2056/change/", "/contacts/7505/change/", "/cards/2056/todos/add/"]
    rendered = {"date"}  # a date field's input (the doc modules' cards have none)
    for path in pages:
        rendered |= set(re.findall(r'<input[^>]*type="([^"]+)"', user_client.get(path).text))

    assert {"datetime-local", "url", "email", "tel", "number"} <= rendered
    assert rendered - UNSTYLED_TYPES <= styled_input_types()
