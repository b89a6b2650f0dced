"""HTTP byte ranges (RFC 9110 section 14): parse a single ``Range: bytes=...`` against a resource size."""

from __future__ import annotations

import re
from dataclasses import dataclass

from server.exceptions import ApiError

_SINGLE_RANGE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$", re.IGNORECASE)
_MAX_DIGITS = 18  # 10**18 bytes is past the end of any file: longer numbers are never converted
_QUOTED_CHARS = 80


@dataclass(frozen=True)
class ByteRange:
    """Bytes ``start`` (inclusive) to ``stop`` (exclusive) of a resource of ``size`` bytes."""

    start: int
    stop: int
    size: int

    @property
    def length(self) -> int:
        return self.stop - self.start

    @property
    def content_range(self) -> str:
        return f"bytes {self.start}-{self.stop - 1}/{self.size}"


def parse_range(header: str, size: int) -> ByteRange | None:
    """The single range ``header`` asks for, or None when the whole resource should be sent.

    Headers that are not one well-formed byte range (other units, several ranges, ``5-2``) are ignored,
    as RFC 9110 allows. A well-formed range wholly outside the resource raises a 416 ApiError, however many
    digits its numbers have; a last position or suffix past the end is clamped to the resource.
    """
    match = _SINGLE_RANGE.match(header)
    if match is None or match.group(1) == match.group(2) == "":
        return None
    first, last = match.group(1), match.group(2)
    if first == "":
        suffix = _position(last)
        if suffix == 0 or size == 0:
            raise _unsatisfiable(header, size)
        return ByteRange(max(size - suffix, 0), size, size)
    start = _position(first)
    stop = size if last == "" else min(_position(last) + 1, size)
    if last != "" and _position(last) < start:
        return None
    if start >= size:
        raise _unsatisfiable(header, size)
    return ByteRange(start, stop, size)


def _position(digits: str) -> int:
    """The byte position ``digits`` spell, saturated at 10**18, so a number thousands of digits long costs nothing."""
    significant = digits.lstrip("0")
    return int(significant or "0") if len(significant) <= _MAX_DIGITS else 10**_MAX_DIGITS


def _unsatisfiable(header: str, size: int) -> ApiError:
    quoted = header.strip()
    if len(quoted) > _QUOTED_CHARS:
        quoted = quoted[:_QUOTED_CHARS] + "..."
    return ApiError(416, "range_not_satisfiable", f"the range {quoted!r} lies outside the {size} bytes "
                    "of this file", {"Content-Range": f"bytes */{size}"})
