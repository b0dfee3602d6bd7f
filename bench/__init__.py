"""Benchmarks: ``python -m bench NAME [--quick]``, each printing one JSON object (never part of the tests)."""
