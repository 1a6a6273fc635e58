"""Capped exponential backoff between delivery attempts."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    """`max_attempts` tries per file and per run; before try n+1 wait min(cap_s, base_s · 2^(n-1)).

    A run that exhausts its tries leaves the file planned with its last error: the next run (or restart) tries again,
    so a long outage of the receiver delays the export but never drops it.
    """

    max_attempts: int = 6
    base_s: float = 2.0
    cap_s: float = 300.0

    def delay(self, failed_attempts: int) -> float:
        """The wait after `failed_attempts` consecutive failures (1 → base_s)."""
        return float(min(self.cap_s, self.base_s * 2 ** max(0, failed_attempts - 1)))
