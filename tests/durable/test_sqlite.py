"""A write transaction over a real SQLite file: all of it commits, or none of it does."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import sqlite_utils

from durable import NestedTransaction, write_transaction


def _db(path: Path) -> sqlite_utils.Database:
    db = sqlite_utils.Database(sqlite3.connect(path, check_same_thread=False))
    db.execute("CREATE TABLE IF NOT EXISTS rows (id INTEGER PRIMARY KEY, name TEXT UNIQUE)")
    return db


def _names(path: Path) -> list[str]:
    # A second connection sees only what was committed.
    with sqlite3.connect(path) as other:
        return [name for (name,) in other.execute("SELECT name FROM rows ORDER BY id")]


def test_an_exception_inside_leaves_nothing_behind(tmp_path: Path) -> None:
    db = _db(tmp_path / "t.db")
    with pytest.raises(sqlite3.IntegrityError), write_transaction(db):
        db.execute("INSERT INTO rows (name) VALUES ('first')")
        db.execute("INSERT INTO rows (name) VALUES ('first')")
    assert _names(tmp_path / "t.db") == []
    assert not db.conn.in_transaction


def test_an_interrupt_inside_rolls_back_too(tmp_path: Path) -> None:
    db = _db(tmp_path / "t.db")
    with pytest.raises(KeyboardInterrupt), write_transaction(db):
        db.execute("INSERT INTO rows (name) VALUES ('half')")
        raise KeyboardInterrupt
    assert _names(tmp_path / "t.db") == []


def test_every_statement_commits_together(tmp_path: Path) -> None:
    db = _db(tmp_path / "t.db")
    with write_transaction(db):
        db.execute("INSERT INTO rows (name) VALUES ('a')")
        assert _names(tmp_path / "t.db") == []  # not visible to others before COMMIT
        db.execute("INSERT INTO rows (name) VALUES ('b')")
    assert _names(tmp_path / "t.db") == ["a", "b"]


def test_sqlite_utils_alone_would_keep_the_first_half(tmp_path: Path) -> None:
    # Why the helper exists: with sqlite-utils 4, ``with db.conn:`` does not make execute() transactional.
    db = _db(tmp_path / "t.db")
    with pytest.raises(sqlite3.IntegrityError), db.conn:
        db.execute("INSERT INTO rows (name) VALUES ('kept')")
        db.execute("INSERT INTO rows (name) VALUES ('kept')")
    assert _names(tmp_path / "t.db") == ["kept"]


def test_a_nested_transaction_is_refused_and_the_outer_one_rolls_back(tmp_path: Path) -> None:
    db = _db(tmp_path / "t.db")
    with pytest.raises(NestedTransaction), write_transaction(db):
        db.execute("INSERT INTO rows (name) VALUES ('outer')")
        with write_transaction(db):
            pass
    assert _names(tmp_path / "t.db") == []
