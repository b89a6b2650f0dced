"""Legato's Qt desktop app and the wiring between the engine, the cache and the server."""
