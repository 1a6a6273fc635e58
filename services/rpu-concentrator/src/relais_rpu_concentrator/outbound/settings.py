"""Settings of the outbound flows: the Santé publique France destination (RELAIS_RPU_SPF_*) and the absence
alerts (RELAIS_RPU_ALERT_*). Secrets are SecretStr; built once by the composition root and passed down."""

from __future__ import annotations

from datetime import time
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from relais_rpu_concentrator.outbound.absence import AbsenceRule
from relais_rpu_concentrator.outbound.retry import RetryPolicy


class SftpDestinationSettings(BaseSettings):
    """SFTP push (RELAIS_RPU_SPF_SFTP_*): key authentication only; the receiver's host key pinned by known_hosts."""

    model_config = SettingsConfigDict(env_prefix="RELAIS_RPU_SPF_SFTP_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(default=22, ge=1, le=65535)
    username: str = "relais-rpu"
    client_key: Path = Path("var/rpu/spf_client_ed25519")
    known_hosts: Path = Path("var/rpu/spf_known_hosts")
    remote_dir: str = "depot"
    connect_timeout_s: float = Field(default=30.0, gt=0)


class HttpDestinationSettings(BaseSettings):
    """HTTPS POST (RELAIS_RPU_SPF_HTTP_*): one request per file, Idempotency-Key = the file's SHA-256."""

    model_config = SettingsConfigDict(env_prefix="RELAIS_RPU_SPF_HTTP_", extra="ignore")

    url: str = "https://127.0.0.1:8443/oscour"
    append_file_name: bool = (
        True  # POST to <url>/<file name>; false: POST to <url> (name in X-Relais-File-Name)
    )
    token: SecretStr | None = None  # sent as "Authorization: Bearer <token>"
    ca_file: Path | None = None  # a private CA for the receiver's certificate; default: the system store
    timeout_s: float = Field(default=120.0, gt=0)


class SpfDeliverySettings(BaseSettings):
    """The daily export to Santé publique France (RELAIS_RPU_SPF_*)."""

    model_config = SettingsConfigDict(env_prefix="RELAIS_RPU_SPF_", extra="ignore")

    # Off by default: a concentrator without a configured receiver would otherwise try (and log failures) daily.
    enabled: bool = False
    transport: Literal["sftp", "https"] = "sftp"
    destination: str = "spf"  # its name in the delivery ledger
    at: time = time(4, 0)  # local time of the daily export
    timezone: str = "Europe/Paris"
    max_attempts: int = Field(default=6, ge=1)
    backoff_base_s: float = Field(default=2.0, gt=0)
    backoff_cap_s: float = Field(default=300.0, gt=0)
    sftp: SftpDestinationSettings = Field(default_factory=SftpDestinationSettings)
    http: HttpDestinationSettings = Field(default_factory=HttpDestinationSettings)

    @property
    def retry(self) -> RetryPolicy:
        return RetryPolicy(self.max_attempts, self.backoff_base_s, self.backoff_cap_s)


class SmtpSettings(BaseSettings):
    """Alert mail (RELAIS_RPU_ALERT_SMTP_*). Without recipients, no mail is sent."""

    model_config = SettingsConfigDict(env_prefix="RELAIS_RPU_ALERT_SMTP_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(default=25, ge=1, le=65535)
    sender: str = "relais-rpu@localhost"
    recipients: list[str] = Field(default_factory=list)  # JSON list in the environment
    starttls: bool = False
    username: str | None = None
    password: SecretStr | None = None
    timeout_s: float = Field(default=30.0, gt=0)


class WebhookSettings(BaseSettings):
    """Alert webhook (RELAIS_RPU_ALERT_WEBHOOK_*). Without a URL, no webhook is called."""

    model_config = SettingsConfigDict(env_prefix="RELAIS_RPU_ALERT_WEBHOOK_", extra="ignore")

    url: str | None = None
    token: SecretStr | None = None  # sent as "Authorization: Bearer <token>"
    timeout_s: float = Field(default=30.0, gt=0)


class AlertSettings(BaseSettings):
    """The same-day absence check (RELAIS_RPU_ALERT_*)."""

    model_config = SettingsConfigDict(env_prefix="RELAIS_RPU_ALERT_", extra="ignore")

    enabled: bool = False
    at: time = time(14, 0)  # local time of the daily check (it may also run more often: one alert per day)
    timezone: str = "Europe/Paris"
    history_days: int = Field(default=28, ge=2)
    min_history_days: int = Field(default=7, ge=2)
    sigmas: float = Field(default=3.0, gt=0)
    volume_lag_days: int = Field(default=1, ge=0)
    smtp: SmtpSettings = Field(default_factory=SmtpSettings)
    webhook: WebhookSettings = Field(default_factory=WebhookSettings)

    @property
    def rule(self) -> AbsenceRule:
        return AbsenceRule(self.history_days, self.min_history_days, self.sigmas, self.volume_lag_days)


class AtihSftpSettings(SftpDestinationSettings):
    model_config = SettingsConfigDict(env_prefix="RELAIS_RPU_ATIH_SFTP_", extra="ignore")


class AtihHttpSettings(HttpDestinationSettings):
    model_config = SettingsConfigDict(env_prefix="RELAIS_RPU_ATIH_HTTP_", extra="ignore")


class AtihDeliverySettings(SpfDeliverySettings):
    """The monthly ATIH export (RELAIS_RPU_ATIH_*, same keys as RELAIS_RPU_SPF_*). `at` is the hour of the monthly
    run on `day_of_month`: month M−1 is exported then (ATIH wants it within a month of its end)."""

    model_config = SettingsConfigDict(env_prefix="RELAIS_RPU_ATIH_", extra="ignore")

    destination: str = "atih"
    at: time = time(5, 0)
    day_of_month: int = Field(default=5, ge=1, le=28)
    sftp: SftpDestinationSettings = Field(default_factory=AtihSftpSettings)
    http: HttpDestinationSettings = Field(default_factory=AtihHttpSettings)


class ArsSftpSettings(SftpDestinationSettings):
    model_config = SettingsConfigDict(env_prefix="RELAIS_RPU_ARS_SFTP_", extra="ignore")


class ArsHttpSettings(HttpDestinationSettings):
    model_config = SettingsConfigDict(env_prefix="RELAIS_RPU_ARS_HTTP_", extra="ignore")


class ArsDeliverySettings(SpfDeliverySettings):
    """The daily ARS export (RELAIS_RPU_ARS_*, same keys as RELAIS_RPU_SPF_*)."""

    model_config = SettingsConfigDict(env_prefix="RELAIS_RPU_ARS_", extra="ignore")

    destination: str = "ars"
    at: time = time(6, 0)
    sftp: SftpDestinationSettings = Field(default_factory=ArsSftpSettings)
    http: HttpDestinationSettings = Field(default_factory=ArsHttpSettings)


class OutboundSettings(BaseSettings):
    """All of them, for the composition root: `OutboundSettings()` reads the environment once."""

    model_config = SettingsConfigDict(extra="ignore")

    spf: SpfDeliverySettings = Field(default_factory=SpfDeliverySettings)
    alert: AlertSettings = Field(default_factory=AlertSettings)
    atih: AtihDeliverySettings = Field(default_factory=AtihDeliverySettings)
    ars: ArsDeliverySettings = Field(default_factory=ArsDeliverySettings)
