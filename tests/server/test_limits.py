"""The JSON nesting scanner: fed in any pieces, it agrees with a byte-by-byte reading of the same text."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.limits import BodyRefused, JsonDepthScanner

MAX_DEPTH = 6
ALPHABET = b'[]{}"\\ a,'  # everything the scanner looks at, and two bytes it must pass over


def reference(text: bytes) -> tuple[int, int]:
    """(depth at the end, deepest depth) of ``text``, read one byte at a time, brackets in strings ignored."""
    depth = peak = 0
    in_string = escaped = False
    for byte in text:
        char = chr(byte)
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            peak = max(peak, depth)
        elif char in "]}":
            depth -= 1
    return depth, peak


def scan(text: bytes, cuts: list[int], max_depth: int = MAX_DEPTH) -> int:
    scanner = JsonDepthScanner(max_depth)
    start = 0
    for cut in [*sorted(cuts), len(text)]:
        scanner.feed(text[start:cut])
        start = cut
    return scanner.depth


@given(text=st.lists(st.sampled_from(list(ALPHABET)), max_size=60).map(bytes),
       cuts=st.lists(st.integers(min_value=0, max_value=60), max_size=8))
def test_any_split_of_any_text_reads_like_one_byte_at_a_time(text: bytes, cuts: list[int]) -> None:
    depth, peak = reference(text)
    cuts = [cut for cut in cuts if cut <= len(text)]
    if peak > MAX_DEPTH:
        with pytest.raises(BodyRefused) as refused:
            scan(text, cuts)
        assert refused.value.status_code == 422 and refused.value.code == "json_too_deep"
    else:
        assert scan(text, cuts) == depth


@given(value=st.recursive(st.none() | st.booleans() | st.integers() | st.text(),
                          lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
                          max_leaves=20))
def test_real_json_is_refused_exactly_when_it_nests_too_deep(value: object) -> None:
    text = json.dumps(value).encode()

    def depth_of(item: object) -> int:
        if isinstance(item, list):
            return 1 + max(map(depth_of, item), default=0)
        if isinstance(item, dict):
            return 1 + max(map(depth_of, item.values()), default=0)
        return 0

    if depth_of(value) > 3:
        with pytest.raises(BodyRefused):
            scan(text, [len(text) // 2], max_depth=3)
    else:
        assert scan(text, [len(text) // 3, len(text) // 2], max_depth=3) == 0


def test_a_long_run_of_openers_is_refused_in_the_first_slice() -> None:
    with pytest.raises(BodyRefused):
        JsonDepthScanner().feed(b"[" * 8_000_000)
