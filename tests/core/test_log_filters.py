"""The console log handler never writes a configured secret."""

import io
import logging

import pytest

from crmconsole.log_filters import REDACTED, RedactSecrets

API_KEY = "minicrm-api-key-Vb93kq"


@pytest.fixture
def console_output():
    handler = next(
        handler
        for handler in logging.getLogger().handlers
        if any(isinstance(f, RedactSecrets) for f in handler.filters)
    )
    assert isinstance(handler, logging.StreamHandler)
    stream = io.StringIO()
    previous = handler.setStream(stream)
    yield stream
    handler.setStream(previous)


def test_api_key_in_a_message_is_redacted(settings, console_output):
    settings.MINICRM_API_KEY = API_KEY

    logging.getLogger("apps.core").warning("calling MiniCRM with %s", API_KEY)

    written = console_output.getvalue()
    assert "calling MiniCRM with" in written
    assert REDACTED in written
    assert API_KEY not in written


def test_secrets_in_a_traceback_are_redacted(settings, console_output):
    settings.MINICRM_API_KEY = API_KEY

    try:
        raise ValueError(f"bad key {API_KEY} and {settings.SECRET_KEY}")
    except ValueError:
        logging.getLogger("apps.core").exception("request failed")

    written = console_output.getvalue()
    assert "ValueError: bad key" in written
    assert API_KEY not in written
    assert settings.SECRET_KEY not in written


def test_ordinary_messages_pass_unchanged(settings, console_output):
    settings.MINICRM_API_KEY = API_KEY

    logging.getLogger("apps.core").warning("fetched %d contacts", 3)

    assert "fetched 3 contacts" in console_output.getvalue()
