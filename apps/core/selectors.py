"""Read-only answers about the console's own configuration."""

from dataclasses import dataclass

from django.conf import settings


@dataclass(frozen=True)
class MiniCRMBackend:
    """The MiniCRM system the console talks to. Holds no credentials beyond the system id."""

    base_url: str
    system_id: str
    rate_limit: int
    rate_window: float


def minicrm_backend_get() -> MiniCRMBackend:
    return MiniCRMBackend(
        base_url=settings.MINICRM_BASE_URL,
        system_id=settings.MINICRM_SYSTEM_ID,
        rate_limit=settings.MINICRM_RATE_LIMIT,
        rate_window=settings.MINICRM_RATE_WINDOW,
    )
