"""The dashboard home: every module's cards by status, the person's to-dos due today and
overdue, recent activity, the budget's use over the last hour and the queue's throughput, all
read from the console's own copy (MiniCRM is not asked)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone
from pytest_django.fixtures import Settings

from apps.core.minicrm import minicrm_client
from apps.mirror.models import Card as MirrorCard
from apps.writes.models import Write
from apps.writes.services import write_send
from tests.conftest import Sandbox, SandboxStarter
from tests.viewsupport import Node, dom, minicrm_away, mirror_console, mirror_fill

pytestmark = pytest.mark.django_db

ME = 53986  # a MiniCRM user of the doc seed
SALES = 10  # the doc seed's sales module


@pytest.fixture
def console(
    settings: Settings, sandbox_factory: SandboxStarter, redis_url: str
) -> Iterator[Sandbox]:
    yield from mirror_console(settings, sandbox_factory("doc"), redis_url)


def status_rows(page: Node, module_id: int) -> list[tuple[str, str]]:
    table = page.by_id(f"module-{module_id}-statuses")
    return [(tr.find("th").text, tr.find("td", class_="num").text) for tr in table.find_all("tr")]


def stamp(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S")


def test_each_module_s_cards_by_status_from_the_mirror_with_minicrm_away(
    user_client: Client, console: Sandbox, settings: Settings
) -> None:
    mirror_fill()
    minicrm_away(settings)

    response = user_client.get("/")

    assert response.status_code == 200
    page = dom(response)
    held = Counter(
        MirrorCard.objects.filter(category_id=SALES, deleted=False).values_list(
            "status_id", flat=True
        )
    )
    listed = {}
    for status_id in held:
        rows = console.get("/Api/R3/Project", params={"CategoryId": SALES, "StatusId": status_id})
        listed[status_id] = int(rows.json()["Count"])
    assert held == listed  # the mirror holds what MiniCRM lists
    shown = status_rows(page, SALES)
    assert sorted(int(count) for _, count in shown) == sorted(listed.values())
    table = page.by_id(f"module-{SALES}-statuses")
    status_links = [a.attrs["href"] for a in table.find("tbody").find_all("a")]
    assert all(href.startswith(f"/modules/{SALES}/?status=") for href in status_links)
    assert table.find("caption").links()[f"/modules/{SALES}/board/"] == "Board"
    # The longest bar is the largest status.
    widths = [float(rect.attrs["width"]) for rect in table.find_all("rect")]
    assert max(widths) == 100.0
    assert widths.index(100.0) == [int(c) for _, c in shown].index(max(listed.values()))


def test_the_dashboard_in_hungarian_keeps_numbers_drawable(
    user_client: Client, console: Sandbox, settings: Settings
) -> None:
    mirror_fill()
    user_client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "hu"

    page = dom(user_client.get("/"))

    assert page.find("h1").text == "Irányítópult"
    assert page.by_id("modules").find("h2").text == "Kártyák státusz szerint"
    assert page.by_id("budget-box").find("h2").text == "MiniCRM-kérések az elmúlt órában"
    # SVG geometry is never written the Hungarian way (12,5): the browser could not draw it.
    for rect in page.find_all("rect"):
        for attribute in ("x", "y", "width", "height"):
            assert "," not in rect.attrs.get(attribute, "")
    legend = [li.text for li in page.by_id("budget-box").find("ul", class_="legend").find_all("li")]
    assert legend[0].startswith("Felhasználók oldalai:")


def test_the_budget_chart_shows_what_people_the_sync_and_the_queue_spent(
    user_client: Client, console: Sandbox, settings: Settings, admin_user: object
) -> None:
    mirror_fill()  # the sync's requests
    people = minicrm_client()
    for _ in range(3):
        people.request("GET", "/Api/R3/Category")
    write = Write.objects.create(
        kind=Write.Kind.PROJECT_UPDATE,
        target_type="project",
        target_id=MirrorCard.objects.filter(category_id=SALES).values_list("id", flat=True)[0],
        payload={"Name": "A dashboard-on látszik"},
    )
    write_send(write.pk)  # the queue's request(s)

    legend = {
        li.attrs["class"]: number.text
        for li in dom(user_client.get("/")).by_id("budget-box").find_all("li")
        for number in li.find_all("span", class_="num")
    }

    assert int(legend["series-people"]) >= 3
    assert int(legend["series-sync"]) > 0
    assert int(legend["series-writes"]) >= 1
    chart = dom(user_client.get("/")).by_id("budget-box").find("svg", class_="chart")
    series = {rect.attrs["class"] for rect in chart.find_all("rect")}
    assert {"series-people", "series-sync", "series-writes"} <= series
    assert chart.find("line", class_="ceiling") is not None


def test_my_to_dos_due_today_and_overdue_from_the_mirror(
    user_client: Client, console: Sandbox, settings: Settings
) -> None:
    now = timezone.now()
    card = console.put(
        "/Api/R3/Project/", json={"CategoryId": SALES, "Name": "Mai teendők kártyája", "UserId": ME}
    ).json()["Id"]
    for comment, deadline in (
        ("Tegnapról maradt", now - timedelta(days=1)),
        ("Ma délben", timezone.localtime(now).replace(hour=23, minute=58)),
        ("Jövő hónapban", now + timedelta(days=40)),
    ):
        answer = console.put(
            "/Api/R3/ToDo/",
            json={"ProjectId": card, "Comment": comment, "UserId": ME, "Deadline": stamp(deadline)},
        )
        assert answer.status_code == 200, answer.text
    assert user_client.post("/preferences/", {"minicrm_user": str(ME)}).status_code == 302
    mirror_fill()
    minicrm_away(settings)

    box = dom(user_client.get("/")).by_id("due-todos")

    lists = box.find_all("ul", class_="due-todos")
    overdue = [li.text for li in lists[0].find_all("li")]
    today = [li.text for li in lists[1].find_all("li")]
    assert len(overdue) == 1 and overdue[0].endswith("Tegnapról maradt — Mai teendők kártyája")
    assert len(today) == 1 and "Ma délben" in today[0]
    assert "Jövő hónapban" not in box.text
    counts = [span.text for span in box.find_all("span", class_="count")]
    assert counts == ["1", "1"]
    assert box.links()[f"/cards/{card}/"] == "Mai teendők kártyája"


def test_recent_activity_names_the_console_s_changes_and_webhook_events(
    user_client: Client, console: Sandbox, settings: Settings, staff_user: User
) -> None:
    from apps.webhooks.models import Event, Handler

    mirror_fill()
    card = MirrorCard.objects.filter(category_id=SALES).order_by("id").first()
    assert card is not None
    Write.objects.create(
        kind=Write.Kind.PROJECT_UPDATE,
        target_type="project",
        target_id=card.pk,
        payload={"Name": "x"},
        requested_by=staff_user,
    )
    handler = Handler.objects.create(name="Sales hook", slug="sales-hook", type="Project")
    Event.objects.create(
        handler=handler, body="{}", object_type="Project", object_id=card.pk, status="processed"
    )

    rows = dom(user_client.get("/")).by_id("activity").find("tbody").find_all("tr")

    cells = [[td.text for td in tr.find_all("td")] for tr in rows[:2]]
    kinds = {cell[1]: cell for cell in cells}
    assert kinds["Webhook: Sales hook"][2] == card.name
    assert kinds["Webhook: Sales hook"][4] == "processed"
    written = next(cell for cell in cells if cell[1] != "Webhook: Sales hook")
    assert written[2] == card.name
    assert written[3] == staff_user.get_username()
    assert written[4] == "queued"
    # A back-office user is not sent to the admins' event page.
    assert not any("/webhooks/events/" in a for tr in rows for a in tr.links())


def test_the_queue_box_counts_the_writes_that_landed_in_the_last_hour(
    user_client: Client, console: Sandbox
) -> None:
    now = timezone.now()
    for minutes_ago in (1, 2, 2, 90):
        Write.objects.create(
            kind=Write.Kind.PROJECT_UPDATE,
            target_type="project",
            target_id=1,
            payload={"Name": "x"},
            state=Write.State.DONE,
            done_at=now - timedelta(minutes=minutes_ago),
        )

    box = dom(user_client.get("/")).by_id("queue-box")

    assert box.by_id("queue-done-hour").text == "3"
    bars = box.find("svg", class_="chart").find_all("rect")
    assert sorted(int(rect.find("title").text.split(": ")[1]) for rect in bars) == [1, 2]
