"""Legato's bundled reference server: catalog, ingest, encrypted origin, licences, HTTP API."""
