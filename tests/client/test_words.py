"""Counts read as a person would write them: one of a thing, many things."""

from __future__ import annotations

from client.widgets.words import count


def test_one_is_singular_and_every_other_number_plural() -> None:
    assert [count(n, "track") for n in (0, 1, 2, 12_345)] == ["0 tracks", "1 track", "2 tracks", "12,345 tracks"]
