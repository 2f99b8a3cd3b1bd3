"""Base URL checks: HTTPS only, except for loopback hosts (the bundled emulators)."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

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
    if parts.scheme not in ("http", "https") or not parts.hostname:
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
