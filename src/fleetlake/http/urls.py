"""Base URL checks: HTTPS only, except for loopback hosts (the bundled emulators); and, when a base URL
cannot be reached, why (refused, no such host, TLS, timeout, proxy) and what to do about it."""

from __future__ import annotations

import ipaddress
import socket
import ssl
from collections.abc import Iterator
from urllib.parse import urlsplit

import requests
from urllib3.exceptions import NameResolutionError

from fleetlake.errors import ConfigurationError

LOOPBACK_NAMES = frozenset({"localhost"})


def is_loopback(host: str) -> bool:
    """True for `localhost` and any loopback IP address (127.0.0.0/8, ::1)."""
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _valid_port(url: str) -> bool:
    try:
        urlsplit(url).port  # noqa: B018  # raises on a port that is not a number in 0..65535
    except ValueError:
        return False
    return True


def check_base_url(url: str, *, setting: str, section: str) -> str:
    """Return `url` without a trailing slash, or raise a `ConfigurationError` naming the setting.

    The vendors' APIs are HTTPS-only; plain `http://` would send request signatures and data in the
    clear, so it is refused unless the host is on this machine.
    """
    parts = urlsplit(url)
    where = f"`{setting}` in [{section}]"
    if parts.username or parts.password:
        raise ConfigurationError(
            f"{where} carries a user name or password in the URL. Put keys in their own settings (they are "
            "secrets) and give the base URL without them."
        )
    if any(char.isspace() for char in url):
        raise ConfigurationError(
            f"{where} is {url!r}, which contains a space or line break. Set it to the API's address without "
            "them, or remove it to use the default."
        )
    if parts.scheme not in ("http", "https") or not parts.hostname or not _valid_port(url):
        raise ConfigurationError(
            f"{where} is {url!r}, which is not an http(s) URL. Set it to the API's address, for example "
            f"'https://api.example.com', or remove it to use the default."
        )
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise ConfigurationError(
            f"{where} is {url!r}: plain http:// is only allowed for loopback hosts (127.0.0.1, localhost), "
            f"because the API must be reached over TLS. Use https://{parts.netloc}{parts.path} instead."
        )
    return url.rstrip("/")


def error_chain(error: BaseException) -> Iterator[BaseException]:
    """The error and what it wraps: causes, contexts, urllib3's `reason`s and exception arguments."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [error]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        reason = getattr(current, "reason", None)
        pending.extend([current.__cause__, current.__context__, reason if isinstance(reason, BaseException) else None])
        pending.extend(arg for arg in current.args if isinstance(arg, BaseException))


def connection_failure(error: requests.RequestException) -> tuple[str, str]:
    """Why a host could not be reached, as (what happened, what to do), for one-paragraph messages."""
    chain = list(error_chain(error))
    if any(isinstance(e, requests.exceptions.ProxyError) for e in chain):
        return "could not be reached through the proxy", "Check the proxy settings (HTTPS_PROXY, NO_PROXY)."
    if any(isinstance(e, NameResolutionError | socket.gaierror) for e in chain):
        return (
            "is a host name that does not resolve (DNS)",
            "Check the host name's spelling, the network and the DNS settings.",
        )
    if any(isinstance(e, ConnectionRefusedError) for e in chain):
        return (
            "refused the connection (nothing listens on that port)",
            "Check the host and port, or start the server that should answer there.",
        )
    if any(isinstance(e, requests.exceptions.SSLError | ssl.SSLError) for e in chain):
        return (
            "failed the TLS handshake",
            "Check that the address is the API's; behind a proxy that inspects TLS, point REQUESTS_CA_BUNDLE "
            "at its certificate bundle.",
        )
    if any(isinstance(e, requests.Timeout | TimeoutError) for e in chain):
        return "did not answer in time", "Check the network connection and any proxy (HTTPS_PROXY)."
    return "could not be reached", "Check the network connection and any proxy (HTTPS_PROXY)."
