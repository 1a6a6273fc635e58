"""Settings of the ARS replay API (RELAIS_RPU_API_*)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ReplayApiSettings(BaseSettings):
    """The HTTP API the ARS uses to request replays. Off unless RELAIS_RPU_API_ENABLED=true: it is a network
    surface that writes, and needs ARS accounts with a password. It listens on loopback by default: HTTP Basic
    sends the password with every request, so anything beyond this host goes through a TLS reverse proxy."""

    model_config = SettingsConfigDict(env_prefix="RELAIS_RPU_API_", extra="ignore")

    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = Field(default=12280, ge=0, le=65535)  # 0: any free port (tests)
    # How often open requests are moved forward (data received, export delivered) besides every read.
    progress_interval_s: float = Field(default=60.0, gt=0)
