"""Benchmarks: `python -m bench.synth` (synth time and memory, test-suite time; results in bench/results/)."""
