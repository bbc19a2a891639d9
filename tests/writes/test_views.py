"""The write queue's pages: counts and expected finish, failed writes with Retry and Discard,
and a bulk job's progress (its HTMX partial)."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone
from pytest_django.fixtures import Settings

from apps.mirror.models import Card as MirrorCard
from apps.mirror.models import Contact as MirrorContact
from apps.mirror.models import Module as MirrorModule
from apps.writes.models import BulkJob, Write
from apps.writes.services import QUEUE_UNREACHABLE
from tests.conftest import Sandbox, SandboxStarter, free_port
from tests.viewsupport import console_at, dom, is_full_page, messages_of, send, use_broker
from tests.viewsupport import doc as doc  # the view tests' fixtures, re-exported
from tests.viewsupport import hungarian as hungarian
from tests.viewsupport import staff_user as staff_user
from tests.viewsupport import user_client as user_client

pytestmark = pytest.mark.django_db


def make_write(state: str = Write.State.QUEUED, **values: object) -> Write:
    fields: dict[str, object] = {
        "kind": Write.Kind.PROJECT_UPDATE,
        "target_type": "project",
        "target_id": 2056,
        "payload": {"VarhatoArbevetel": 1},
        "state": state,
        **values,
    }
    return Write.objects.create(**fields)


def count(page, state: str) -> str:
    return page.by_id(f"count-{state}").text


# -- the queue page ----------------------------------------------------------------------------


def test_queue_page_counts_writes_by_state_and_tells_when_it_finishes(
    user_client: Client, doc: Sandbox
) -> None:
    for _ in range(11):
        make_write()
    make_write(Write.State.SENDING)
    make_write(Write.State.DONE)
    make_write(Write.State.FAILED, last_error="boom")
    make_write(Write.State.CONFLICT)
    make_write(Write.State.DISCARDED)

    page = dom(user_client.get("/queue/"))

    assert [count(page, s) for s in ("queued", "sending", "done", "failed", "conflict")] == [
        "11",
        "1",
        "1",
        "1",
        "1",
    ]
    # 12 writes to send at the bulk share of the budget: 144 of 180 a minute, 2.4 a second.
    assert page.by_id("queue-eta").text == "5 s"


def test_empty_queue_expects_nothing(user_client: Client, doc: Sandbox) -> None:
    page = dom(user_client.get("/queue/"))

    assert count(page, "queued") == "0"
    assert page.by_id("queue-eta").text == "—"


def test_queue_page_lists_what_needs_a_person_with_retry_and_discard(
    user_client: Client, doc: Sandbox
) -> None:
    failed = make_write(
        Write.State.FAILED,
        last_error="Invalid value '5' for the Várható árbevétel field.",
        error_field="VarhatoArbevetel",
    )
    conflict = make_write(Write.State.CONFLICT, target_id=2001)
    make_write(target_id=2009)

    page = dom(user_client.get("/queue/"))

    rows = {
        row.find("a").attrs["href"]: row
        for row in page.find_all("tr", class_="write-failed")
        + page.find_all("tr", class_="write-conflict")
    }
    assert set(rows) == {"/cards/2056/", "/cards/2001/"}
    failed_row = rows["/cards/2056/"]
    assert "VarhatoArbevetel: Invalid value '5' for the Várható árbevétel field." in failed_row.text
    assert [b.text for b in failed_row.find_all("button")] == ["Retry", "Discard"]
    assert failed_row.find("form").attrs["action"] == f"/queue/{failed.pk}/retry/"
    assert [b.text for b in rows["/cards/2001/"].find_all("button")] == ["Overwrite", "Discard"]
    assert rows["/cards/2001/"].find("form").attrs["action"] == f"/queue/{conflict.pk}/retry/"
    # The queued one is on its way, with no buttons.
    queued = page.find("tr", class_="write-queued")
    assert queued.find("a").attrs["href"] == "/cards/2009/"
    assert not queued.has("button")


def test_only_mine_shows_my_writes(user_client: Client, doc: Sandbox, staff_user: User) -> None:
    other = User.objects.create_user(username="other", password=None)
    make_write(Write.State.FAILED, requested_by=staff_user, target_id=2001)
    make_write(Write.State.FAILED, requested_by=other, target_id=2009)

    page = dom(user_client.get("/queue/", {"mine": "1"}))

    assert [row.find("a").text for row in page.find_all("tr", class_="write-failed")] == [
        "card #2001"
    ]
    assert page.links()["/queue/"] == "Show everyone's"


def object_cells(page) -> list[str]:
    return [row.find_all("td")[1].text for row in page.find_all("tr", class_="write-queued")]


def test_queue_names_every_kind_of_object_and_links_the_ones_with_a_page(
    user_client: Client, doc: Sandbox
) -> None:
    make_write(target_id=2056)
    make_write(kind=Write.Kind.CONTACT_UPDATE, target_type="contact", target_id=3)
    make_write(kind=Write.Kind.ORDER_MODIFY, target_type="order", target_id=5)
    make_write(kind=Write.Kind.TODO_UPDATE, target_type="todo", target_id=7)
    make_write(kind=Write.Kind.PROJECT_CREATE, target_id=None)
    make_write(kind=Write.Kind.ORDER_CREATE, target_type="order", target_id=None)

    page = dom(user_client.get("/queue/"))

    assert object_cells(page) == [
        "card #2056",
        "contact #3",
        "order #5",
        "to-do #7",
        "new card",
        "new order",
    ]
    links = page.links()
    assert links["/cards/2056/"] == "card #2056"
    assert links["/contacts/3/"] == "contact #3"
    assert links["/orders/5/"] == "order #5"


def test_queue_names_objects_in_hungarian(hungarian: Client, doc: Sandbox) -> None:
    make_write(target_id=2056)
    make_write(kind=Write.Kind.ORDER_MODIFY, target_type="order", target_id=5)
    make_write(kind=Write.Kind.TODO_UPDATE, target_type="todo", target_id=7)
    make_write(kind=Write.Kind.CONTACT_CREATE, target_type="contact", target_id=None)

    page = dom(hungarian.get("/queue/"))

    assert object_cells(page) == ["kártya #2056", "megrendelés #5", "teendő #7", "új ügyfél"]


@pytest.mark.parametrize(
    ("language", "nothing", "none_of_mine"),
    [
        (
            "en",
            "Nothing is waiting: every change has reached MiniCRM.",
            "None of your changes is waiting.",
        ),
        (
            "hu",
            "Semmi sem várakozik: minden módosítás megérkezett a MiniCRM-be.",
            "Egy módosításod sem várakozik.",
        ),
    ],
)
def test_an_empty_queue_and_an_empty_only_mine_say_which_it_is(
    user_client: Client,
    doc: Sandbox,
    settings: Settings,
    language: str,
    nothing: str,
    none_of_mine: str,
) -> None:
    user_client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    assert dom(user_client.get("/queue/")).by_id("queue-empty").text == nothing
    other = User.objects.create_user(username="other", password=None)
    make_write(Write.State.FAILED, requested_by=other, target_id=2009)

    page = dom(user_client.get("/queue/", {"mine": "1"}))

    assert page.by_id("queue-empty").text.startswith(none_of_mine)
    assert "/queue/" in page.by_id("queue-empty").links()
    assert not dom(user_client.get("/queue/")).has(id="queue-empty")


def test_the_live_part_of_the_queue_page_is_its_htmx_partial(
    user_client: Client, doc: Sandbox
) -> None:
    make_write()

    response = user_client.get("/queue/", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="queue-live")

    assert not is_full_page(response)
    live = dom(response).find("div")
    assert live.id == "queue-live"
    assert live.attrs["hx-trigger"] == "every 5s"
    assert count(live, "queued") == "1"


def test_retry_sends_a_failed_write_again_and_it_lands(user_client: Client, doc: Sandbox) -> None:
    name = f"Teszt {uuid.uuid4().hex[:8]}"
    card_id = doc.put("/Api/R3/Project/", json={"CategoryId": 10, "Name": name}).json()["Id"]
    write = make_write(
        Write.State.FAILED,
        target_id=card_id,
        payload={"VarhatoArbevetel": 777},
        last_error="MiniCRM could not be reached (ConnectionError)",
    )
    form = (
        dom(user_client.get("/queue/"))
        .find("tr", class_="write-failed")
        .find("form", action=f"/queue/{write.pk}/retry/")
    )

    response = user_client.post(form.attrs["action"], follow=True)

    assert response.redirect_chain == [("/queue/", 302)]
    assert "The change is queued again." in messages_of(response)
    retried = Write.objects.get(pk=write.pk)
    assert (retried.state, retried.last_error) == (Write.State.QUEUED, "")
    assert send(retried).state == Write.State.DONE
    assert doc.get(f"/Api/R3/Project/{card_id}").json()["VarhatoArbevetel"] == 777


def test_overwriting_a_conflict_drops_what_the_user_saw(user_client: Client, doc: Sandbox) -> None:
    write = make_write(Write.State.CONFLICT, seen={"VarhatoArbevetel": 1000000})

    user_client.post(f"/queue/{write.pk}/retry/", {"overwrite": "1"})

    retried = Write.objects.get(pk=write.pk)
    assert (retried.state, retried.seen) == (Write.State.QUEUED, None)


def test_discard_gives_a_write_up_and_returns_to_the_page_it_came_from(
    user_client: Client, doc: Sandbox
) -> None:
    write = make_write(Write.State.FAILED, last_error="boom")

    response = user_client.post(f"/queue/{write.pk}/discard/", {"next": "/cards/2056/"})

    assert response.status_code == 302
    assert response["Location"] == "/cards/2056/"
    assert Write.objects.get(pk=write.pk).state == Write.State.DISCARDED
    page = dom(user_client.get("/queue/"))
    assert count(page, "failed") == "0"
    assert "The change was discarded; MiniCRM keeps its own value." in " ".join(
        li.text for li in page.find_all("li")
    )


def test_retry_and_discard_leave_a_done_write_alone(user_client: Client, doc: Sandbox) -> None:
    write = make_write(Write.State.DONE)

    user_client.post(f"/queue/{write.pk}/retry/")
    user_client.post(f"/queue/{write.pk}/discard/")

    assert Write.objects.get(pk=write.pk).state == Write.State.DONE


def test_retry_and_discard_need_a_post_and_a_real_write(user_client: Client, doc: Sandbox) -> None:
    write = make_write(Write.State.FAILED)

    assert user_client.get(f"/queue/{write.pk}/retry/").status_code == 405
    assert user_client.get(f"/queue/{write.pk}/discard/").status_code == 405
    assert user_client.post("/queue/999999/retry/").status_code == 404
    assert user_client.post("/queue/999999/discard/").status_code == 404
    assert Write.objects.get(pk=write.pk).state == Write.State.FAILED


# -- a bulk job --------------------------------------------------------------------------------


def make_job(states: list[str]) -> BulkJob:
    job = BulkJob.objects.create(description="Status to “Sikeres” on 4 cards", total=len(states))
    for offset, state in enumerate(states):
        make_write(state, target_id=3000 + offset, job=job, payload={"StatusId": 2623})
    return job


def test_job_page_shows_progress_and_the_failed_writes(user_client: Client, doc: Sandbox) -> None:
    job = make_job([Write.State.DONE, Write.State.FAILED, Write.State.QUEUED, Write.State.QUEUED])

    response = user_client.get(f"/queue/jobs/{job.pk}/")

    page = dom(response)
    assert page.find("h1").text == "Status to “Sikeres” on 4 cards"
    bar = page.by_id("job-bar")
    assert (bar.attrs["max"], bar.attrs["value"]) == ("4", "2")
    counts = page.by_id("job-counts").text
    assert counts.startswith("1 done, 1 failed, of 4")
    assert "about 1 s to go" in counts
    progress = page.by_id("job-progress")
    assert progress.attrs["hx-trigger"] == "every 1s"
    assert progress.attrs["data-finished"] == "false"
    failed = page.find("tr", class_="write-failed")
    assert failed.find("a").attrs["href"] == "/cards/3001/"


def summary_job() -> BulkJob:
    # Made by someone browsing in English: the stored description is English.
    job = BulkJob.objects.create(
        description="Status to “Sikeres” on 2 cards",
        summary={"action": "status", "label": "Sikeres", "count": 2},
        total=2,
    )
    for offset in range(2):
        make_write(target_id=3000 + offset, job=job, payload={"StatusId": 2623})
    return job


def in_language(client: Client, language: str, path: str):
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = language
    return dom(client.get(path))


def test_a_bulk_job_reads_in_the_language_of_whoever_looks(
    user_client: Client, doc: Sandbox
) -> None:
    job = summary_job()

    english = in_language(user_client, "en", f"/queue/jobs/{job.pk}/")
    magyar = in_language(user_client, "hu", f"/queue/jobs/{job.pk}/")
    queue = in_language(user_client, "hu", "/queue/")

    assert english.find("h1").text == "Status to “Sikeres” on 2 cards"
    assert magyar.find("h1").text == "2 kártya státusza: „Sikeres”"
    assert magyar.find("title").text.startswith("2 kártya státusza: „Sikeres”")
    assert queue.links()[f"/queue/jobs/{job.pk}/"] == "2 kártya státusza: „Sikeres”"


@pytest.mark.parametrize(
    ("summary", "english", "magyar"),
    [
        (
            {"action": "owner", "label": "Kiss Réka", "count": 3},
            "Owner to “Kiss Réka” on 3 cards",
            "3 kártya felelőse: „Kiss Réka”",
        ),
        (
            {"action": "field", "field": "Megjegyzes", "value": "x", "count": 4},
            "Megjegyzes to “x” on 4 cards",
            "4 kártya Megjegyzes mezője: „x”",
        ),
    ],
)
def test_every_kind_of_bulk_job_is_titled_in_both_languages(
    user_client: Client,
    doc: Sandbox,
    summary: dict[str, object],
    english: str,
    magyar: str,
) -> None:
    job = BulkJob.objects.create(description="stored", summary=summary, total=0)

    assert in_language(user_client, "en", f"/queue/jobs/{job.pk}/").find("h1").text == english
    assert in_language(user_client, "hu", f"/queue/jobs/{job.pk}/").find("h1").text == magyar


def test_a_bulk_job_from_before_summaries_keeps_its_stored_title(
    hungarian: Client, doc: Sandbox
) -> None:
    job = make_job([Write.State.DONE])

    assert dom(hungarian.get(f"/queue/jobs/{job.pk}/")).find("h1").text == (
        "Status to “Sikeres” on 4 cards"
    )


def test_a_quick_small_jobs_eta_is_what_is_left_at_the_pace_it_goes(
    user_client: Client, hungarian: Client, doc: Sandbox
) -> None:
    # 30 cards, 20 of them done within the last second: the 10 left take about half a second
    # with the budget free, not the 4 s of the budget's pace (2.4 a second).
    job = make_job([str(Write.State.DONE)] * 20 + [str(Write.State.QUEUED)] * 10)
    started = timezone.now() - timedelta(seconds=1)
    job.writes.update(first_attempt_at=started)
    job.writes.filter(state=Write.State.DONE).update(done_at=started)

    counts = dom(hungarian.get(f"/queue/jobs/{job.pk}/")).by_id("job-counts").text

    assert re.search(r"\b[01] mp", counts), counts


def test_job_progress_partial_stops_polling_when_finished(
    user_client: Client, doc: Sandbox
) -> None:
    job = make_job([Write.State.DONE, Write.State.QUEUED])
    headers = {"HX-Request": "true", "HX-Target": "job-progress"}

    running = user_client.get(f"/queue/jobs/{job.pk}/", headers=headers)
    job.writes.filter(state=Write.State.QUEUED).update(state=Write.State.DONE)
    finished = user_client.get(f"/queue/jobs/{job.pk}/", headers=headers)

    assert not is_full_page(running)
    assert dom(running).find("div").id == "job-progress"
    assert dom(running).by_id("job-progress").attrs["hx-get"] == f"/queue/jobs/{job.pk}/"
    done = dom(finished).by_id("job-progress")
    assert "hx-get" not in done.attrs
    assert done.attrs["data-finished"] == "true"
    assert dom(finished).by_id("job-finished").text == "finished"
    assert dom(finished).by_id("job-counts").text.startswith("2 done, 0 failed, of 2")
    # Only the finished answer tells the header's pending counter to refresh itself.
    assert "HX-Trigger" not in running
    assert "writes-changed" in json.loads(finished["HX-Trigger"])


def test_unknown_job_is_not_found(user_client: Client, doc: Sandbox) -> None:
    response = user_client.get("/queue/jobs/999999/")

    assert response.status_code == 404
    assert dom(response).find("h1").text == "Not found"


@pytest.mark.parametrize("debug", [True, False], ids=["debug", "no-debug"])
@pytest.mark.parametrize(
    ("language", "heading"), [("en", "Not found"), ("hu", "Nem található")], ids=["en", "hu"]
)
def test_unknown_job_is_the_console_s_404_page_even_with_debug_on(
    user_client: Client, settings: Settings, debug: bool, language: str, heading: str
) -> None:
    settings.DEBUG = debug  # `make run` runs with DEBUG: Django's technical page would show
    user_client.cookies[settings.LANGUAGE_COOKIE_NAME] = language

    response = user_client.get("/queue/jobs/999999/")

    assert response.status_code == 404
    page = dom(response)
    assert page.find("h1").text == heading
    assert page.has("nav", id="nav-sidebar")  # the console's layout
    assert set(page.by_id("not-found-links").links()) == {"/queue/", "/"}
    assert "technical_404" not in response.content.decode()
    assert "Django tried these URL patterns" not in response.content.decode()


@pytest.mark.parametrize(
    "next_url", ["foo", "javascript:alert(1)", "https://evil.example/", "//evil.example/", ""]
)
@pytest.mark.parametrize("action", ["retry", "discard"])
def test_retry_and_discard_go_back_only_to_a_page_of_the_console(
    user_client: Client, doc: Sandbox, action: str, next_url: str
) -> None:
    write = make_write(Write.State.FAILED, last_error="boom")

    response = user_client.post(f"/queue/{write.pk}/{action}/", {"next": next_url})

    assert response.status_code == 302
    assert response["Location"] == "/queue/"
    expected = Write.State.QUEUED if action == "retry" else Write.State.DISCARDED
    assert Write.objects.get(pk=write.pk).state == expected


@pytest.mark.django_db(transaction=True)
def test_retry_with_the_queue_down_says_the_change_waits_for_it(
    user_client: Client, doc: Sandbox, settings: Settings
) -> None:
    # Redis (the broker) is down: nothing listens on the port.
    dead = f"redis://127.0.0.1:{free_port()}/0"
    settings.REDIS_URL = dead
    use_broker(dead)
    write = make_write(Write.State.FAILED, last_error="boom")

    response = user_client.post(f"/queue/{write.pk}/retry/", {"next": "/cards/2056/"})

    assert response.status_code == 302
    assert response["Location"] == "/cards/2056/"
    retried = Write.objects.get(pk=write.pk)
    # Stored as queued (beat's sweep sends it once the queue is back), and says why it waits.
    assert (retried.state, retried.enqueued_at) == (Write.State.QUEUED, None)
    assert retried.last_error == QUEUE_UNREACHABLE
    page = user_client.get("/queue/")
    assert page.status_code == 200
    assert messages_of(page) == [
        "The change is queued again, but the queue cannot be reached right now: it will be "
        "sent to MiniCRM when the queue is back."
    ]
    assert count(dom(page), "queued") == "1"


# -- undo of a one-click change ----------------------------------------------------------------


CARD = 2056  # a card of the doc seed, "Feldolgozásra vár" (2622)
WON, WON_LABEL = 2623, "Sikeres"


@pytest.fixture
def own(settings: Settings, sandbox_factory: SandboxStarter, redis_url: str) -> Iterator[Sandbox]:
    """A doc sandbox of the test's own: its changes land."""
    yield from console_at(settings, sandbox_factory("doc"), redis_url)


def sandbox_status(sandbox: Sandbox, card_id: int) -> str:
    return str(sandbox.get(f"/Api/R3/Project/{card_id}").json()["StatusId"])


def test_a_status_pill_waits_with_undo_and_undo_sends_nothing(
    user_client: Client, own: Sandbox, settings: Settings
) -> None:
    settings.UNDO_SECONDS = 30
    before = sandbox_status(own, CARD)

    changed = user_client.post(f"/cards/{CARD}/status/", {"status": str(WON)}, follow=True)

    bar = dom(changed).by_id("undo-bar")
    assert "undo-bar" in bar.classes
    assert bar.find("span").text.startswith("Status changed to")
    write = Write.objects.get(target_id=CARD)
    assert write.state == Write.State.QUEUED
    assert write.next_attempt_at > timezone.now() + timedelta(seconds=25)
    assert send(write).state == Write.State.QUEUED  # held: a worker leaves it be
    form = bar.find("form")
    assert form.attrs["action"] == f"/queue/{write.pk}/undo/"
    next_url = form.find("input", name="next").attrs["value"]
    assert next_url == f"/cards/{CARD}/"

    undone = user_client.post(form.attrs["action"], {"next": next_url}, follow=True)

    assert messages_of(undone) == ["Undone: nothing was sent to MiniCRM."]
    assert "undo-bar" not in dom(undone).by_id("undo-bar").classes
    write.refresh_from_db()
    assert write.state == Write.State.DISCARDED
    settings.UNDO_SECONDS = 0
    assert send(write).state == Write.State.DISCARDED
    assert sandbox_status(own, CARD) == before


def test_after_its_wait_the_change_lands_and_undo_is_too_late(
    user_client: Client, own: Sandbox, settings: Settings
) -> None:
    settings.UNDO_SECONDS = 30
    user_client.post(f"/cards/{CARD}/status/", {"status": str(WON)})
    write = Write.objects.get(target_id=CARD)
    Write.objects.filter(pk=write.pk).update(next_attempt_at=timezone.now())  # the wait is over

    assert send(write).state == Write.State.DONE
    assert sandbox_status(own, CARD) == WON_LABEL
    page = dom(user_client.get(f"/cards/{CARD}/"))
    assert "undo-bar" not in page.by_id("undo-bar").classes  # no longer offered
    late = user_client.post(f"/queue/{write.pk}/undo/", {"next": f"/cards/{CARD}/"}, follow=True)
    assert messages_of(late) == ["Too late to undo: the change has already gone to MiniCRM."]
    write.refresh_from_db()
    assert write.state == Write.State.DONE


def test_only_its_own_person_undoes_a_change(
    user_client: Client, own: Sandbox, settings: Settings, django_user_model: type[User]
) -> None:
    settings.UNDO_SECONDS = 30
    user_client.post(f"/cards/{CARD}/status/", {"status": str(WON)})
    write = Write.objects.get(target_id=CARD)
    other = django_user_model.objects.create_user("masik", password="x" * 12)
    user_client.force_login(other)

    answer = user_client.post(f"/queue/{write.pk}/undo/", follow=True)

    assert messages_of(answer) == ["Too late to undo: the change has already gone to MiniCRM."]
    write.refresh_from_db()
    assert write.state == Write.State.QUEUED
    assert user_client.get(f"/queue/{write.pk}/undo/").status_code == 405


def test_undo_in_hungarian(hungarian: Client, own: Sandbox, settings: Settings) -> None:
    settings.UNDO_SECONDS = 30
    changed = hungarian.post(f"/cards/{CARD}/status/", {"status": str(WON)}, follow=True)

    bar = dom(changed).by_id("undo-bar")
    assert bar.find("button").text == "Visszavonás"
    assert bar.find("span", class_="undo-left").text.endswith("mp a visszavonásra")
    undone = hungarian.post(bar.find("form").attrs["action"], follow=True)
    assert messages_of(undone) == ["Visszavonva: semmi sem ment el a MiniCRM-be."]


# -- labelled values ---------------------------------------------------------------------------

SALES_SCHEMA = {
    "Name": "Text(512)",
    "StatusId": {"2623": "Elvesztett", "2624": "Sikeres"},
    "UserId": {"12": "Kiss Réka", "13": "Nagy Péter"},
    "ContactId": "Int",
    "VarhatoArbevetel": "Int",
}


def mirror_knows_sales() -> None:
    """The mirror holds the sales module's schema, a card of it and the card's contact."""
    now = timezone.now()
    MirrorModule.objects.create(id=10, name="Értékesítés", schema=SALES_SCHEMA)
    MirrorCard.objects.create(id=2056, category_id=10, name="Teszt", synced_at=now)
    MirrorContact.objects.create(id=7506, name="Leskó Norbert", type="Person", synced_at=now)


def values_of(row) -> list[str]:
    return [li.text for li in row.find("ul", class_="changes").find_all("li")]


def test_the_queue_shows_what_a_write_sets_by_its_labels_and_names(
    user_client: Client, doc: Sandbox
) -> None:
    mirror_knows_sales()
    make_write(payload={"StatusId": 2623, "UserId": 12, "ContactId": 7506, "VarhatoArbevetel": 5})

    row = dom(user_client.get("/queue/")).find("tr", class_="write-queued")

    assert values_of(row) == [
        "Status: Elvesztett",
        "Owner: Kiss Réka",
        "Contact: Leskó Norbert (#7506)",
        "Varhato arbevetel: 5",
    ]
    assert row.find("td", class_="payload").links() == {"/contacts/7506/": "Leskó Norbert (#7506)"}
    assert "StatusId" not in row.text and "= " not in row.text


def test_the_queue_names_values_in_hungarian(hungarian: Client, doc: Sandbox) -> None:
    mirror_knows_sales()
    make_write(payload={"StatusId": 2623, "UserId": 12})

    row = dom(hungarian.get("/queue/")).find("tr", class_="write-queued")

    assert values_of(row) == ["Státusz: Elvesztett", "Felelős: Kiss Réka"]


def test_without_a_schema_or_mirror_row_values_fall_back_to_names_and_raw_values(
    user_client: Client, doc: Sandbox
) -> None:
    make_write(payload={"StatusId": 2623, "ContactId": 999, "ProjektKod": "A-1"})
    make_write(
        kind=Write.Kind.TODO_UPDATE,
        target_type="todo",
        target_id=7,
        payload={"UserId": 12, "Comment": "Hívd fel", "Items": [{"Name": "Toll", "Qty": 2}]},
    )

    rows = dom(user_client.get("/queue/")).find_all("tr", class_="write-queued")

    assert values_of(rows[0]) == ["Status: 2623", "Contact: #999", "Projekt kod: A-1"]
    assert values_of(rows[1])[:2] == ["Owner: 12", "Comment: Hívd fel"]
    assert "Name: Toll, Qty: 2" in values_of(rows[1])[2]
    assert "{" not in rows[1].text and "[" not in rows[1].text


def test_a_job_page_shows_its_failed_writes_labelled(user_client: Client, doc: Sandbox) -> None:
    mirror_knows_sales()
    job = BulkJob.objects.create(description="Status", total=1)
    make_write(Write.State.FAILED, job=job, payload={"StatusId": 2623}, last_error="boom")

    english = dom(user_client.get(f"/queue/jobs/{job.pk}/")).find("tr", class_="write-failed")
    user_client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "hu"
    magyar = dom(user_client.get(f"/queue/jobs/{job.pk}/")).find("tr", class_="write-failed")

    assert values_of(english) == ["Status: Elvesztett"]
    assert values_of(magyar) == ["Státusz: Elvesztett"]
