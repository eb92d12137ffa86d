"""Benchmark scripts; each writes JSON under experiments/results/."""
