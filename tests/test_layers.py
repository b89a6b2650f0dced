"""The import rules of docs/DESIGN.md, checked on the real tree: the tables there say what may import what.

The tables are parsed from the document itself, so the doc and the check cannot drift apart; every import in
the tree (at any depth, lazy ones too) is parsed with ast, never by running the code.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DESIGN = ROOT / "docs" / "DESIGN.md"
QT_MODULES = ("PySide6", "shiboken6")
QT_HOME = "client/"
WIRING = "client.app"  # the top of the app: only its entry point may import it
WIRING_IMPORTERS = ("client.__main__",)


@dataclass(frozen=True)
class Layer:
    """One row of a "may import" table: a folder (``client/views/``) and the folders it may import."""

    folder: str
    may_import: frozenset[str]


Table = dict[str, Layer]


def tables_from_design(text: str) -> list[Table]:
    """Every table whose last column is "may import", by folder: the folder in backticks in a row's first cell, and
    the folders in backticks in its last cell ("nothing" names none). A folder's own modules may import each other.

    Each table rules the imports between its own rows: the parts table those between parts, the table of
    ``client/`` those between its packages (a module's row in a table is the most specific folder holding it).
    """
    tables: list[Table] = []
    table: Table | None = None
    for line in text.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")] if line.lstrip().startswith("|") else []
        if not cells:
            table = None
        elif cells[-1].lower() == "may import":
            table = {}
            tables.append(table)
        elif table is not None and not set(line) <= set("|-: "):
            folder = re.match(r"`([\w/]+/)`", cells[0])
            if folder is None:
                raise ValueError(f"a row of an import table names no folder in backticks: {line!r}")
            allowed = frozenset(re.findall(r"`([\w/]+/)`", cells[-1]))
            table[folder.group(1)] = Layer(folder.group(1), allowed | {folder.group(1)})
    return tables


def layer_of(module: str, layers: Table) -> str | None:
    """The most specific folder a dotted module name lives in (``client.views.window`` -> ``client/views/``)."""
    path = module.replace(".", "/") + "/"
    owners = [folder for folder in layers if path.startswith(folder)]
    return max(owners, key=len) if owners else None


def module_name(root: Path, file: Path) -> str:
    parts = file.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(tree: ast.AST, module: str, is_package: bool) -> Iterator[tuple[int, str]]:
    """(line, absolute dotted name) of every import in ``tree``; relative ones are resolved against ``module``.

    ``from x import y`` gives ``x.y``: ``y`` may be a submodule (``from client import app``) and counts as one.
    """
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            for alias in node.names:
                yield node.lineno, target if alias.name == "*" else f"{target}.{alias.name}"


def violations(root: Path, tables: list[Table]) -> list[str]:
    """Every import under the tables' folders in ``root`` that they do not allow, as ``file:line: why``."""
    found: list[str] = []
    top_folders = {folder.split("/")[0] for table in tables for folder in table}
    for top in sorted(top_folders):
        for file in sorted((root / top).rglob("*.py")):
            module = module_name(root, file)
            where = f"{file.relative_to(root)}"
            tree = ast.parse(file.read_text(encoding="utf-8"), filename=str(file))
            for line, target in imports(tree, module, file.name == "__init__.py"):
                if target.split(".")[0] in QT_MODULES and not where.startswith(QT_HOME):
                    found.append(f"{where}:{line}: imports {target}, but Qt belongs only in {QT_HOME}")
                if (target == WIRING or target.startswith(WIRING + ".")) and module not in WIRING_IMPORTERS:
                    found.append(f"{where}:{line}: imports {target}, the wiring on top; nothing below may")
                for table in tables:
                    own, other = layer_of(module, table), layer_of(target, table)
                    if own is not None and other is not None and other not in table[own].may_import:
                        found.append(f"{where}:{line}: {own} may not import {other} ({target})")
    return found


def write_tree(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


PLANTED_TABLES = """
| part | what | may import |
|---|---|---|
| `player/` | engine | nothing |
| `cache/` | store | `player/` |
| `client/` | app | `cache/`, `player/` |

| package | what | may import |
|---|---|---|
| `client/` | wiring | `client/views/` |
| `client/views/` | widgets | `client/` |
| `client/desktop/` | tray | `client/` |
"""


def test_the_design_tables_name_every_part_of_the_tree() -> None:
    parts, inside_client = tables_from_design(DESIGN.read_text(encoding="utf-8"))
    packages = {path.parent.name + "/" for path in ROOT.glob("*/__init__.py")}
    assert packages <= set(parts), f"parts without a row in docs/DESIGN.md: {sorted(packages - set(parts))}"
    subpackages = {f"client/{path.parent.name}/" for path in (ROOT / "client").glob("*/__init__.py")}
    missing = sorted(subpackages - set(inside_client))
    assert not missing, f"client/ packages without a row in docs/DESIGN.md: {missing}"
    assert parts["player/"].may_import == {"player/"} and "server/" not in parts["client/"].may_import


def test_the_tree_keeps_the_import_rules_of_the_design() -> None:
    assert violations(ROOT, tables_from_design(DESIGN.read_text(encoding="utf-8"))) == []


def test_a_planted_bad_import_fails_the_check(tmp_path: Path) -> None:
    write_tree(tmp_path, {
        "player/__init__.py": "",
        "player/engine.py": "import numpy\nfrom cache import store\n",
        "cache/__init__.py": "",
        "cache/store.py": "from player import engine\ndef lazy():\n    from PySide6.QtCore import QObject\n",
        "client/__init__.py": "",
        "client/app.py": "from client.views import window\n",
        "client/views/__init__.py": "",
        "client/views/window.py": "from PySide6.QtWidgets import QWidget\nfrom . import table\nfrom .. import app\n",
        "client/views/table.py": "",
        "client/desktop/__init__.py": "",
        "client/desktop/tray.py": "import client.views.window\n",
    })
    found = violations(tmp_path, tables_from_design(PLANTED_TABLES))
    assert found == [
        "cache/store.py:3: imports PySide6.QtCore.QObject, but Qt belongs only in client/",
        "client/desktop/tray.py:1: client/desktop/ may not import client/views/ (client.views.window)",
        "client/views/window.py:3: imports client.app, the wiring on top; nothing below may",
        "player/engine.py:2: player/ may not import cache/ (cache.store)",
    ]


def test_a_table_row_without_a_folder_is_refused() -> None:
    with pytest.raises(ValueError, match="names no folder in backticks"):
        tables_from_design("| part | what | may import |\n|---|---|---|\n| player | engine | nothing |\n")
