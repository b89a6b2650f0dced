"""What the benchmarks measure with that is not a benchmark itself (an event-loop lag probe, a crowd's HTTP client)."""
