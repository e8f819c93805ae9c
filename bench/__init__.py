"""Benchmarks of Stimmen: respondent throughput, pipeline speed and memory, analysis pages (see README.md)."""
