"""Legato's offline mode: pinned downloads, connectivity state, offline licences."""
