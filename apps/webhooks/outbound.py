"""The forward action's outbound HTTP: only to public addresses unless a setting allows others.

A URL is checked when a handler is saved (`forward_problem`) and again before each send; the
session of a send (`guarded_session`) checks the address each connection actually reached as
well, so a name that resolves to a public address for the check and to a private one for the
connection (DNS rebinding) is refused too. Redirects open new connections and are checked the
same way; proxies from the environment are not used.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import requests
from django.utils.translation import gettext as _
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool


class ForwardRefused(Exception):
    """The forward's address is not a public one (not a RequestException: never retried)."""


def address_problem(address: str) -> str | None:
    """Why an IP address is refused as a forward target, or None for a public address."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return _("not an IP address")
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return _("a loopback address")
    if ip.is_link_local:
        return _("a link-local address")
    if ip.is_multicast or ip.is_reserved or ip.is_unspecified:
        return _("a reserved address")
    if ip.is_private:
        return _("a private address")
    if not ip.is_global:
        return _("a reserved address")
    return None


def forward_problem(url: str, *, allow_private: bool, unresolvable_ok: bool = False) -> str | None:
    """Why a URL cannot be a forward target (its host resolved now), or None."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return _("Only http and https URLs with a host can be forwarded to.")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        found = socket.getaddrinfo(parts.hostname, port, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError, ValueError):
        return (
            None
            if unresolvable_ok
            else _("%(host)s cannot be resolved.") % {"host": parts.hostname}
        )
    if allow_private:
        return None
    for *_rest, sockaddr in found:
        reason = address_problem(str(sockaddr[0]))
        if reason:
            return _(
                "%(host)s is %(reason)s (%(address)s): forwards go to public addresses only "
                "(WEBHOOK_FORWARD_ALLOW_PRIVATE allows others)."
            ) % {"host": parts.hostname, "reason": reason, "address": sockaddr[0]}
    return None


class _CheckedPeer:
    """A connection that refuses to talk once it finds its peer is not a public address."""

    def _new_conn(self) -> socket.socket:
        sock: socket.socket = super()._new_conn()  # type: ignore[misc]
        peer = str(sock.getpeername()[0])
        reason = address_problem(peer)
        if reason:
            sock.close()
            raise ForwardRefused(
                _(
                    "%(address)s is %(reason)s: forwards go to public addresses only "
                    "(WEBHOOK_FORWARD_ALLOW_PRIVATE allows others)."
                )
                % {"address": peer, "reason": reason}
            )
        return sock


class _HTTPConnection(_CheckedPeer, HTTPConnection):
    pass


class _HTTPSConnection(_CheckedPeer, HTTPSConnection):
    pass


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


class _PublicOnlyAdapter(HTTPAdapter):
    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}


@contextmanager
def guarded_session(*, allow_private: bool) -> Iterator[requests.Session]:
    """A session for one forward: public peers only, unless private ones are allowed."""
    session = requests.Session()
    session.trust_env = False  # a proxy would be the peer checked, not the target
    if not allow_private:
        adapter = _PublicOnlyAdapter()
        session.mount("http://", adapter)
        session.mount("https://", adapter)
    try:
        yield session
    finally:
        session.close()
