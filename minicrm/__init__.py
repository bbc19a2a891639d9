"""A Python client for the MiniCRM REST API (no Django inside: it could be published alone).

from minicrm import MiniCRMClient
client = MiniCRMClient(system_id="12345", api_key="...", base_url="https://r3.minicrm.hu")
card = client.projects.get(2056)
"""

from minicrm.client import MiniCRMClient, Priority
from minicrm.errors import (
    BadRequest,
    ConnectionFailed,
    MethodNotAllowed,
    MiniCRMError,
    NotFound,
    RateLimited,
    RequestTimeout,
    ServerError,
    Unauthorized,
)

__all__ = [
    "BadRequest",
    "ConnectionFailed",
    "MethodNotAllowed",
    "MiniCRMClient",
    "MiniCRMError",
    "NotFound",
    "Priority",
    "RateLimited",
    "RequestTimeout",
    "ServerError",
    "Unauthorized",
]
