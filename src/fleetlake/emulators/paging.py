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
from fleetlake.emulators.faults import paging_fault

_TOKEN_SIGNATURE_BYTES = 9
_OFFSET_LIMIT = 1 << 40  # a token's 6 bytes: the variant in the first, the offset in the other five


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
        self._empty_pages = 0

    def _sign(self, scope: str, offset: int, variant: int) -> bytes:
        message = f"{scope}\n{offset}" + (f"\n{variant}" if variant else "")
        return hmac.new(self._secret, message.encode(), hashlib.sha256).digest()[:_TOKEN_SIGNATURE_BYTES]

    def issue(self, scope: str, offset: int, variant: int = 0) -> str:
        """The token that resumes `scope` at `offset`.

        A non-zero `variant` (up to 255) gives another token for the same place, as a server does
        that issues a fresh cursor on every answer.
        """
        if not 0 <= offset < _OFFSET_LIMIT or not 0 <= variant < 256:
            raise ValueError(f"offset {offset} or variant {variant} out of range")
        raw = (variant * _OFFSET_LIMIT + offset).to_bytes(6, "big") + self._sign(scope, offset, variant)
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    def read(self, scope: str, token: str) -> int | None:
        """The offset a token resumes at, or None when it was not issued for `scope`."""
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        except ValueError:
            return None
        if len(raw) != 6 + _TOKEN_SIGNATURE_BYTES:
            return None
        variant, offset = divmod(int.from_bytes(raw[:6], "big"), _OFFSET_LIMIT)
        if not hmac.compare_digest(raw[6:], self._sign(scope, offset, variant)):
            return None
        return offset

    def next_token(self, scope: str, request_token: str | None, start: int, stop: int, total: int) -> str:
        """The next-page token of the page [start, stop), "" on the last page; plays a `loop` fault."""
        fault = paging_fault()
        if fault is not None and fault.kind == "loop" and request_token:
            fault.applied = True
            return request_token
        return self.issue(scope, stop) if stop < total else ""

    def empty_page(self, scope: str, start: int, total: int) -> str | None:
        """Under an `empty-page` fault: the token resuming at `start` that an empty page answers."""
        fault = paging_fault()
        if fault is None or fault.kind != "empty-page" or start >= total:
            return None
        fault.applied = True
        self._empty_pages += 1
        # a fresh token each time, as a server issuing a new cursor per answer would
        return self.issue(scope, start, variant=1 + self._empty_pages % 255)


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
    resume = tokens.empty_page(scope, start, total)
    if resume is not None:
        return TokenPage(Slice(start, start), resume)
    stop = min(start + size, total)
    return TokenPage(Slice(start, stop), tokens.next_token(scope, token, start, stop, total))
