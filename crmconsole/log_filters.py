"""A logging filter that keeps the project's secrets out of every log line."""

import logging
from urllib.parse import urlsplit

from django.conf import settings

REDACTED = "[redacted]"
# Shorter values would redact ordinary words; real secrets are longer than this.
_MIN_SECRET_LENGTH = 6


def _url_password(url: object) -> str:
    if not isinstance(url, str) or not url:
        return ""
    try:
        return urlsplit(url).password or ""
    except ValueError:
        return ""


def configured_secrets() -> list[str]:
    """The secret values in the current settings, longest first."""
    candidates = [
        getattr(settings, "SECRET_KEY", ""),
        getattr(settings, "MINICRM_API_KEY", ""),
        _url_password(getattr(settings, "REDIS_URL", "")),
        _url_password(getattr(settings, "CELERY_BROKER_URL", "")),
        _url_password(getattr(settings, "CELERY_RESULT_BACKEND", "")),
    ]
    candidates += [db.get("PASSWORD", "") for db in getattr(settings, "DATABASES", {}).values()]
    found = {str(value) for value in candidates if value and len(str(value)) >= _MIN_SECRET_LENGTH}
    return sorted(found, key=len, reverse=True)


def redact(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, REDACTED)
    return text


class RedactSecrets(logging.Filter):
    """Replace configured secrets in a record's message and traceback before it is written.

    Settings are read on every record, so values changed at run time (tests) are covered too.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        secrets = configured_secrets()
        if not secrets:
            return True
        message = record.getMessage()
        cleaned = redact(message, secrets)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, secrets)
        if record.stack_info:
            record.stack_info = redact(record.stack_info, secrets)
        return True
