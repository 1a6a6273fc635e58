from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from relais_platform.settings import PlatformSettings


class LoaderSettings(PlatformSettings):
    model_config = SettingsConfigDict(env_prefix="RELAIS_LOADER_", extra="ignore")
