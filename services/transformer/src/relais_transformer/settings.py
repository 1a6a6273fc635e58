from __future__ import annotations

from pathlib import Path

from pydantic_settings import SettingsConfigDict

from relais_platform.settings import PlatformSettings


class TransformerSettings(PlatformSettings):
    """`reference_year` is DIAMANT's N (annual blocks keep N−5..N−1, monthly N−4..N); unset = the current year."""

    model_config = SettingsConfigDict(env_prefix="RELAIS_TRANSFORMER_", extra="ignore")

    reference_year: int | None = None
    work_dir: Path = Path("var/transformer")
