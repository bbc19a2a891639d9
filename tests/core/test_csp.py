"""The Content-Security-Policy: on every response of the console and the admin, allowing no
inline script (so no template may carry one) and no framing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client

from tests.core.test_permissions import URLS
from tests.viewsupport import logged_in

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = sorted(
    path
    for folder in [ROOT / "templates", *ROOT.glob("apps/*/templates")]
    for path in folder.rglob("*.html")
)
# What a CSP without 'unsafe-inline' refuses: event-handler attributes, javascript: URLs,
# <script> without src, inline style attributes and <style> elements, htmx's hx-on.
INLINE = re.compile(
    r"""\son[a-z]+\s*=|javascript:|<script(?![^>]*\ssrc=)[^>]*>|\sstyle\s*=|<style|hx-on""",
    re.IGNORECASE,
)


def _directives(response) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    return {
        part.strip().split(" ", 1)[0]: part.strip().partition(" ")[2]
        for part in header.split(";")
        if part.strip()
    }


def test_the_policy_allows_scripts_and_styles_only_from_the_console_s_files(client):
    policy = _directives(client.get("/accounts/login/"))

    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert policy["object-src"] == "'none'"
    assert "unsafe" not in " ".join(policy.values())


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "url"), URLS)
def test_every_url_answers_with_the_policy(client: Client, name: str, url: str) -> None:
    response = client.get(url)

    assert "frame-ancestors 'none'" in response.get("Content-Security-Policy", ""), name


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/", 200),
        ("/modules/10/", 200),
        ("/cards/2056/", 200),
        ("/contacts/7505/", 200),
        ("/queue/", 200),
        ("/admin/", 200),
        ("/no/such/page/", 404),
    ],
)
def test_logged_in_pages_carry_the_policy_and_no_inline_script(
    client: Client, admin_user, minicrm_settings, url: str, status: int
) -> None:
    response = logged_in(client, admin_user).get(url)

    assert response.status_code == status
    assert "script-src 'self'" in response["Content-Security-Policy"]
    page = response.content.decode()
    assert not INLINE.findall(page), INLINE.findall(page)


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda path: str(path.relative_to(ROOT)))
def test_no_template_has_inline_script_or_style(template: Path) -> None:
    found = INLINE.findall(template.read_text())

    assert not found, f"{template}: {found} (put behaviour in static/js/console.js)"


def test_htmx_is_told_not_to_eval_or_inject_styles(client):
    page = client.get("/accounts/login/").content.decode()

    assert '"allowEval": false' in page
    assert '"includeIndicatorStyles": false' in page
    assert "/static/js/console.js" in page
