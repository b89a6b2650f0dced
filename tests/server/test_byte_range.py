"""Parsing of HTTP Range headers against a resource size."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.byte_range import ByteRange, parse_range
from server.exceptions import ApiError


@pytest.mark.parametrize(("header", "expected"), [
    ("bytes=0-0", ByteRange(0, 1, 100)),
    ("bytes=10-19", ByteRange(10, 20, 100)),
    ("bytes=90-", ByteRange(90, 100, 100)),
    ("bytes=-10", ByteRange(90, 100, 100)),
    ("bytes=-1000", ByteRange(0, 100, 100)),
    ("bytes=50-5000", ByteRange(50, 100, 100)),
    ("Bytes = 1 - 2", ByteRange(1, 3, 100)),
])
def test_single_ranges_are_parsed_and_clamped_to_the_size(header: str, expected: ByteRange) -> None:
    assert parse_range(header, 100) == expected


@pytest.mark.parametrize("header", ["bytes=0-1,5-6", "items=0-1", "bytes=9-2", "bytes=-", "bytes=a-b", "junk"])
def test_headers_that_are_not_one_valid_range_are_ignored(header: str) -> None:
    assert parse_range(header, 100) is None


@pytest.mark.parametrize(("header", "size"), [("bytes=100-", 100), ("bytes=100-200", 100), ("bytes=-0", 100),
                                              ("bytes=0-", 0), ("bytes=-5", 0)])
def test_ranges_outside_the_resource_are_416(header: str, size: int) -> None:
    with pytest.raises(ApiError) as raised:
        parse_range(header, size)
    assert raised.value.status == 416
    assert raised.value.headers["Content-Range"] == f"bytes */{size}"


@given(size=st.integers(min_value=1, max_value=10**9), first=st.integers(min_value=0, max_value=10**9),
       span=st.integers(min_value=0, max_value=10**9))
def test_a_satisfiable_range_always_lies_within_the_resource(size: int, first: int, span: int) -> None:
    header = f"bytes={first}-{first + span}"
    if first >= size:
        with pytest.raises(ApiError):
            parse_range(header, size)
        return
    byte_range = parse_range(header, size)
    assert byte_range is not None
    assert byte_range.start == first
    assert first < byte_range.stop <= size
    assert byte_range.length == min(span + 1, size - first)
    assert byte_range.content_range == f"bytes {first}-{byte_range.stop - 1}/{size}"


@pytest.mark.parametrize("digits", [4300, 100_000])
def test_numbers_of_any_length_are_answered_without_converting_them(digits: int) -> None:
    huge = "9" * digits
    with pytest.raises(ApiError) as raised:
        parse_range(f"bytes={huge}-", 100)
    assert raised.value.status == 416 and len(raised.value.message) < 300
    assert parse_range(f"bytes=10-{huge}", 100) == ByteRange(10, 100, 100)
    assert parse_range(f"bytes=-{huge}", 100) == ByteRange(0, 100, 100)
    assert parse_range(f"bytes={'0' * digits}5-{'0' * digits}7", 100) == ByteRange(5, 8, 100)
