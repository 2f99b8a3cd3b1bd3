"""Stable hashing, UUID-looking ids that decode back to record indexes, and Secoda's timestamps.

Ids are a pure function of (seed, kind, index): the index sits, scrambled, in the last 32 bits of a
version-4 UUID and the other bits are a keyed hash, so an id decodes to its index by reading those
bits and checking that re-encoding gives the same id. Unknown or foreign ids decode to None.
"""

from __future__ import annotations

import hashlib
import random
import time

MASK64 = (1 << 64) - 1
LOW32 = (1 << 32) - 1
MICROS = 1_000_000
HOUR_US = 3_600 * MICROS
DAY_US = 86_400 * MICROS


def kind_key(seed: int, kind: str) -> int:
    """A 64-bit key private to one seed and one kind of record."""
    digest = hashlib.blake2b(f"fleetlake-secoda|{seed}|{kind}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def splitmix(x: int) -> int:
    """The splitmix64 finaliser: a cheap, well mixed 64-bit permutation."""
    x = (x + 0x9E3779B97F4A7C15) & MASK64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & MASK64
    return x ^ (x >> 31)


class Hash:
    """A keyed 64-bit hash of integer paths, for one seed and kind (pure Python, about a microsecond)."""

    def __init__(self, seed: int, kind: str) -> None:
        self.key = kind_key(seed, kind)

    def __call__(self, *parts: int) -> int:
        x = self.key
        for part in parts:
            x = splitmix(x ^ (part & MASK64))
        return x

    def rng(self, *parts: int) -> random.Random:
        """A random generator private to one record (test data, not secrets)."""
        return random.Random(self(*parts))  # noqa: S311


class UuidSpace:
    """Maps record indexes (0 <= index < 2**32) to version-4 UUID strings and back."""

    def __init__(self, seed: int, kind: str) -> None:
        self._hash = Hash(seed, kind)
        key = kind_key(seed, kind + "|scramble")
        self._mult = key & LOW32 | 1
        self._mult2 = key >> 32 | 1
        self._offset = splitmix(key) & LOW32
        self._inverse = pow(self._mult, -1, 1 << 32)
        self._inverse2 = pow(self._mult2, -1, 1 << 32)

    def _scramble(self, index: int) -> int:
        # affine map, xor-shift, multiply, xor-shift: each step is invertible modulo 2**32
        x = (index * self._mult + self._offset) & LOW32
        x ^= x >> 16
        x = x * self._mult2 & LOW32
        return x ^ (x >> 16)

    def _unscramble(self, x: int) -> int:
        x ^= x >> 16
        x = x * self._inverse2 & LOW32
        x ^= x >> 16
        return (x - self._offset) * self._inverse & LOW32

    def value(self, index: int) -> int:
        """The 128-bit value of the id of `index`; ordering by it orders by the id string."""
        h1, h2 = self._hash(index, 1), self._hash(index, 2)
        return (
            (h1 >> 16) << 80 | 4 << 76 | (h1 & 0xFFF) << 64 | 2 << 62 | (h2 >> 34) << 32 | self._scramble(index & LOW32)
        )

    def encode(self, index: int) -> str:
        """The id of record `index`."""
        text = f"{self.value(index):032x}"
        return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"

    def decode(self, text: object) -> int | None:
        """The index an id encodes, or None when `text` is not an id of this space."""
        if not isinstance(text, str) or len(text) != 36:
            return None
        raw = text.lower().replace("-", "")
        if len(raw) != 32 or not all(c in "0123456789abcdef" for c in raw):
            return None
        index = self._unscramble(int(raw, 16) & LOW32)
        return index if self.encode(index) == text.lower() else None


def iso(us: int) -> str:
    """Unix microseconds as Secoda writes them: `2023-08-16T23:12:53.245493Z`."""
    seconds, micros = divmod(us, MICROS)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{micros:06d}Z"
