"""How numbers read on screen: a count with its noun in the right number ("1 track", "2 tracks")."""

from __future__ import annotations


def count(number: int, noun: str) -> str:
    """``number`` and ``noun``, the noun plural unless the number is one: count(1, "album") -> "1 album"."""
    if number == 1:
        return f"1 {noun}"
    return f"{number:,} {noun}s"
