"""Benchmarks of the API (`make bench`): each figure a ratio to a floor measured in the same run."""
