from __future__ import annotations

from pydantic_settings import SettingsConfigDict
from relais_platform.settings import PlatformSettings


class ConcentratorSettings(PlatformSettings):
    model_config = SettingsConfigDict(env_prefix="RELAIS_RPU_", extra="ignore")
