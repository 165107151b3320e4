"""The pieces of `make bench` (benchmarks/bench.py): the stack, the load, the report."""
