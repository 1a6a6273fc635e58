from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from relais_platform.settings import PlatformSettings


class SftpSettings(BaseSettings):
    """The DIAMANT SFTP account. Key authentication only; the server's host key is pinned by known_hosts."""

    model_config = SettingsConfigDict(env_prefix="RELAIS_FETCHER_SFTP_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 12222
    username: str = "relais-dnum"
    client_key: Path = Path("var/sftp/client_ed25519")
    known_hosts: Path = Path("var/sftp/known_hosts")
    inbox: str = "DIAMANT/incoming"


class FetcherSettings(PlatformSettings):
    """Two feeds: DIAMANT extracts (SFTP) and the FINESS referential (an SFTP folder of the same account, or, when
    `finess_urls` is set, HTTPS addresses such as the open-data extracts)."""

    model_config = SettingsConfigDict(env_prefix="RELAIS_FETCHER_", extra="ignore")

    sftp: SftpSettings = Field(default_factory=SftpSettings)
    finess_inbox: str | None = "FINESS/incoming"
    finess_urls: list[str] = Field(default_factory=list)
    poll_interval_s: float = 60.0
    partial_dir: Path = Path("var/fetcher/partial")
