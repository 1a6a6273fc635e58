from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from relais_platform.settings import PlatformSettings


class TransformerSettings(PlatformSettings):
    """`reference_year` is DIAMANT's N (annual blocks keep N−5..N−1, monthly N−4..N); unset = the current year.

    `worker_processes`: processes that transform files (Python parsing holds one core per process), one per core
    by default; 0 transforms in the service process itself. `concurrent_files`: files taken at once (one per
    partition of the decrypted topic, each waiting for a free worker): with fewer, the files of two partitions would
    wait for each other even with a worker idle."""

    model_config = SettingsConfigDict(env_prefix="RELAIS_TRANSFORMER_", extra="ignore")

    reference_year: int | None = None
    work_dir: Path = Path("var/transformer")
    worker_processes: int = Field(default_factory=lambda: min(os.cpu_count() or 1, 4), ge=0, le=16)
    concurrent_files: int = Field(default=3, ge=1, le=16)
