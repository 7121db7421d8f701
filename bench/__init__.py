"""provkit benchmarks: ``python -m bench.<name>``; results go into BENCHMARKS.md."""
