"""Settings of the RPU concentrator: the platform's, plus the SFTP intake where establishments push their files."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from relais_platform.settings import PlatformSettings
from relais_rpu_concentrator.outbound.settings import OutboundSettings

GIB = 1 << 30


class IntakeSettings(BaseSettings):
    """The SFTP intake (RELAIS_RPU_INTAKE_*). The host key is generated at first start when the file is missing."""

    model_config = SettingsConfigDict(env_prefix="RELAIS_RPU_INTAKE_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(default=12223, ge=0, le=65535)
    host_key: Path = Path("var/rpu/ssh_host_ed25519_key")
    root: Path = Path("var/rpu/intake")
    # A 7-day RPU file weighs well under 1 MB; the limit only stops a runaway or hostile upload from filling the disk.
    max_file_bytes: int = Field(default=2 * GIB, ge=1)
    login_timeout_s: float = Field(default=60.0, gt=0)


class IntegrationSettings(BaseSettings):
    """Integration of received files into the regional database (RELAIS_RPU_INTEGRATION_*)."""

    model_config = SettingsConfigDict(env_prefix="RELAIS_RPU_INTEGRATION_", extra="ignore")

    # Passages read, checked and COPYed at a time: memory depends on this, never on the file size.
    batch_size: int = Field(default=5000, ge=1)
    # A covered window wider than this is refused (a DATEDEBUT typo would otherwise erase years of data).
    max_window_days: int = Field(default=400, ge=1)
    # Files integrated at once, one per partition of rpu.file.received at most (files of one establishment share a
    # partition, so they stay in order): one file's database waits are another's parsing time.
    concurrent_files: int = Field(default=3, ge=1, le=16)
    # Processes that read, check and write those files (Python parsing holds one core per process): one per core is
    # where throughput stops growing. 0 integrates in the service process itself.
    worker_processes: int = Field(default_factory=lambda: min(os.cpu_count() or 1, 4), ge=0, le=16)


# The ignore is for checks that see relais_platform as untyped (no py.typed); unused when it is typed.
class ConcentratorSettings(PlatformSettings):  # type: ignore[misc, unused-ignore]
    model_config = SettingsConfigDict(env_prefix="RELAIS_RPU_", extra="ignore")

    intake: IntakeSettings = Field(default_factory=IntakeSettings)
    integration: IntegrationSettings = Field(default_factory=IntegrationSettings)
    # Exports and alerts (RELAIS_RPU_SPF_*, _ATIH_*, _ARS_*, _ALERT_*), each off until its `_ENABLED` is true.
    outbound: OutboundSettings = Field(default_factory=OutboundSettings)
