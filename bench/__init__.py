"""Benchmarks (`make bench`). Figures go to results/bench/*.json and the README."""
