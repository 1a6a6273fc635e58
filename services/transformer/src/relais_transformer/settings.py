from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from relais_platform.settings import PlatformSettings


class TransformerSettings(PlatformSettings):
    """`reference_year` is DIAMANT's N (annual blocks keep N−5..N−1, monthly N−4..N); unset = the current year.

    `worker_processes`: processes that transform files; 0 (the default) transforms in threads of the service
    process, which is enough since the transformation is vectorised (polars works outside the GIL, on every core).
    `concurrent_files`: files taken at once (each from its own partition of the decrypted topic); one by default,
    which keeps the service under 300 MB on national files (each in memory whole while it is transformed)."""

    model_config = SettingsConfigDict(env_prefix="RELAIS_TRANSFORMER_", extra="ignore")

    reference_year: int | None = None
    work_dir: Path = Path("var/transformer")
    worker_processes: int = Field(default=0, ge=0, le=16)
    concurrent_files: int = Field(default=1, ge=1, le=16)
