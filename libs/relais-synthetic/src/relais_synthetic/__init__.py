"""Synthetic data with the real formats and quirks, for the tests, the benchmarks and `relais generate` / `relais
seed` (no real data exists here): one sub-package per domain (`finess`, `diamant`, `rpu`). Deterministic: same
seed, same bytes. Production code never imports it."""
