"""The icon glyphs: each name the app draws is the glyph qtawesome's Phosphor charmap gives it."""

from __future__ import annotations

import json

from client.widgets.icons import CHARMAP_FILE, GLYPHS, font_dir


def test_every_glyph_is_the_one_the_fonts_charmap_names() -> None:
    charmap = json.loads((font_dir() / CHARMAP_FILE).read_text(encoding="utf-8"))
    assert {name: int(charmap[name], 16) for name in GLYPHS} == GLYPHS
