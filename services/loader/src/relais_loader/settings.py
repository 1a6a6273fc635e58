from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from relais_platform.settings import PlatformSettings


class LoaderSettings(PlatformSettings):
    """`concurrent_files`: files loaded at once (one per partition of the transformed topic; one source's files are
    still applied one at a time, under its advisory lock)."""

    model_config = SettingsConfigDict(env_prefix="RELAIS_LOADER_", extra="ignore")

    concurrent_files: int = Field(default=3, ge=1, le=16)
