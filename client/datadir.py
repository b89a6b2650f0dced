"""Where Legato keeps its user data: ``--data-dir``, else ``$LEGATO_DATA_DIR``, else the platform's data dir."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

DATA_DIR_ENV = "LEGATO_DATA_DIR"


def resolve_data_dir(flag: str | None) -> Path:
    chosen = flag or os.environ.get(DATA_DIR_ENV)
    path = Path(chosen).expanduser() if chosen else Path(platformdirs.user_data_dir("Legato", "Legato"))
    path.mkdir(parents=True, exist_ok=True)
    return path
