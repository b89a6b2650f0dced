"""Legato's playlist CRDT and sync messages: pure logic, no I/O."""
