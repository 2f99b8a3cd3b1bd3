"""The two paging styles the vendors use: page numbers, and opaque page tokens.

Handlers compute only the slice a page needs, so paging a list of a million records costs one page.
Tokens are deterministic (same secret, list and offset give the same token, so answers are
byte-identical across runs) and bound to the list and its other query parameters: a token replayed
against another list or with changed filters is refused, as the vendors document.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass

from starlette.datastructures import QueryParams

from fleetlake.emulators.core import RouteError

_TOKEN_SIGNATURE_BYTES = 9


def parse_int(query: QueryParams, name: str) -> int | None:
    """An integer query parameter, None when absent; 400 when it is not an integer."""
    raw = query.get(name)
    if raw is None or raw == "":
        return None
    try:
        return int(raw)
    except ValueError:
        raise RouteError(400, f"invalid {name} {raw!r}: must be an integer") from None


@dataclass(frozen=True)
class Slice:
    """The half-open range [start, stop) of a list that a page covers."""

    start: int
    stop: int

    def indices(self) -> range:
        """The indices of the page's records."""
        return range(self.start, self.stop)


def number_page(
    query: QueryParams,
    total: int,
    *,
    default_size: int = 10,
    maximum: int = 100,
    page_param: str = "page",
    size_param: str = "page_size",
) -> Slice:
    """The slice for `page` (from 1) and `page_size` (1..maximum); past the end is an empty page."""
    page = parse_int(query, page_param)
    size = parse_int(query, size_param)
    page = 1 if page is None else page
    size = default_size if size is None else size
    if page < 1:
        raise RouteError(400, f"invalid {page_param} {page}: pages are numbered from 1")
    if not 1 <= size <= maximum:
        raise RouteError(400, f"invalid {size_param} {size}: must be between 1 and {maximum}")
    start = min((page - 1) * size, total)
    return Slice(start, min(start + size, total))


class PageTokens:
    """Issues and reads opaque page tokens bound to a list (its `scope`) and an offset."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def _sign(self, scope: str, offset: int) -> bytes:
        message = f"{scope}\n{offset}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).digest()[:_TOKEN_SIGNATURE_BYTES]

    def issue(self, scope: str, offset: int) -> str:
        """The token that resumes `scope` at `offset`."""
        raw = offset.to_bytes(6, "big") + self._sign(scope, offset)
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    def read(self, scope: str, token: str) -> int | None:
        """The offset a token resumes at, or None when it was not issued for `scope`."""
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        except ValueError:
            return None
        if len(raw) != 6 + _TOKEN_SIGNATURE_BYTES:
            return None
        offset = int.from_bytes(raw[:6], "big")
        if not hmac.compare_digest(raw[6:], self._sign(scope, offset)):
            return None
        return offset


def token_scope(kind: str, query: QueryParams, ignore: Iterable[str] = ()) -> str:
    """A list's identity for its tokens: its kind and every query parameter but the paging ones."""
    skipped = {"pageToken", "pageSize", "skip", *ignore}
    pairs = sorted((k, v) for k, v in query.multi_items() if k not in skipped)
    return kind + "?" + "&".join(f"{k}={v}" for k, v in pairs)


@dataclass(frozen=True)
class TokenPage:
    """A page of a token-paged list: its slice and the token for the next page ("" on the last)."""

    slice: Slice
    next_token: str


def token_page(
    query: QueryParams,
    tokens: PageTokens,
    scope: str,
    total: int,
    *,
    default_size: int = 10,
    maximum: int = 100,
    allow_skip: bool = False,
) -> TokenPage:
    """The page `pageToken` (or `skip`) points at, `pageSize` long (clamped to `maximum`).

    A page size of 0 or less means the default, as in Google's API conventions; an unknown token
    is a 400.
    """
    size = parse_int(query, "pageSize")
    size = default_size if size is None or size <= 0 else min(size, maximum)
    start = 0
    token = query.get("pageToken")
    if token:
        offset = tokens.read(scope, token)
        if offset is None:
            raise RouteError(400, "invalid pageToken: it was not issued for this list or these parameters")
        start = offset
    elif allow_skip:
        skip = parse_int(query, "skip") or 0
        if skip < 0:
            raise RouteError(400, f"invalid skip {skip}: must not be negative")
        start = skip
    start = min(start, total)
    stop = min(start + size, total)
    return TokenPage(Slice(start, stop), tokens.issue(scope, stop) if stop < total else "")
