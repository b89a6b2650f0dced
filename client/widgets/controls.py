"""Naming controls for automation: the one place a widget gets its stable object name, accessible name and tooltip."""

from __future__ import annotations

from typing import TypeVar

from PySide6.QtWidgets import QWidget

W = TypeVar("W", bound=QWidget)


def named(widget: W, object_name: str, accessible: str, tooltip: str | None = None) -> W:
    """Give ``widget`` the object name QA drives it by, an accessible name, and a tooltip.

    The tooltip defaults to the accessible name; ``""`` gives none (for containers, whose tooltip children inherit).
    """
    widget.setObjectName(object_name)
    widget.setAccessibleName(accessible)
    widget.setToolTip(accessible if tooltip is None else tooltip)
    return widget
