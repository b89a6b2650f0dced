"""Writes that survive a crash: whole files replaced atomically, SQLite writes in one real transaction.

A leaf every part may import; it imports nothing of the project.
"""

from durable.files import fsync_directory, write_atomically
from durable.sqlite import NestedTransaction, write_transaction

__all__ = ["NestedTransaction", "fsync_directory", "write_atomically", "write_transaction"]
