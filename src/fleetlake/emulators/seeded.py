"""Deterministic per-record randomness for the emulators' data: same seed, same bytes."""

from __future__ import annotations

import hashlib
import random


def mix(seed: int, kind: str, *parts: int | str) -> int:
    """A stable 64-bit hash of a seed, a record kind and an index path."""
    text = "|".join([str(seed), kind, *map(str, parts)])
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


def rng(seed: int, kind: str, *parts: int | str) -> random.Random:
    """A random generator private to one record (test data, not secrets)."""
    return random.Random(mix(seed, kind, *parts))  # noqa: S311


def weighted(value: int, table: tuple[tuple[str, int], ...]) -> str:
    """The name `value` falls on in a table of (name, weight) pairs."""
    point = value % sum(weight for _, weight in table)
    for name, weight in table:
        if point < weight:
            return name
        point -= weight
    raise AssertionError("unreachable")
