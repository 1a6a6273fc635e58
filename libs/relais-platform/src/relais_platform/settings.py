"""Settings shared by every service, read from the environment once at start-up and passed down.

Defaults are the embedded local stack started by `make up` (deploy/): Kafka on 127.0.0.1:19092, PostgreSQL on
127.0.0.1:15432, files under ./var. Every value can be overridden by its environment variable.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from relais_contracts import ALL_TOPICS, Topic

LOCAL_KAFKA = "127.0.0.1:19092"
LOCAL_DATABASE_URL = "postgresql://relais@127.0.0.1:15432/relais"


class KafkaSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KAFKA_", extra="ignore")

    bootstrap_servers: str = LOCAL_KAFKA
    # Prepended to every topic and consumer group: isolates test runs or several environments on one cluster.
    namespace: str = ""
    # Bounded redelivery for messages that fail for a reason other than infrastructure (see broker.py).
    max_handler_attempts: int = Field(default=5, ge=1)

    def topic(self, topic: Topic) -> str:
        return f"{self.namespace}{topic.value}"

    def group(self, service: str) -> str:
        return f"{self.namespace}relais-{service}"

    def all_topics(self) -> list[str]:
        return [f"{self.namespace}{name}" for name in ALL_TOPICS]


class DatabaseSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore")

    database_url: str = LOCAL_DATABASE_URL
    database_pool_max_size: int = Field(default=10, ge=1)


class StorageSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RELAIS_", extra="ignore")

    var_dir: Path = Path("var")
    blob_dir: Path | None = None

    @property
    def blobs(self) -> Path:
        return self.blob_dir or self.var_dir / "blobs"

    @property
    def run_dir(self) -> Path:
        return self.var_dir / "run"


class TelemetrySettings(BaseSettings):
    """Standard OTEL_* variables, plus where local spans are written as JSON lines for `relais trace`."""

    model_config = SettingsConfigDict(extra="ignore")

    otel_service_name: str | None = None
    otel_exporter_otlp_endpoint: str | None = None
    otel_exporter_otlp_traces_endpoint: str | None = None
    otel_traces_exporter: str = "otlp"
    relais_trace_dir: Path | None = None
    relais_log_level: str = "INFO"

    @property
    def otlp_enabled(self) -> bool:
        configured = self.otel_exporter_otlp_endpoint or self.otel_exporter_otlp_traces_endpoint
        return bool(configured) and self.otel_traces_exporter != "none"


class PlatformSettings(BaseSettings):
    """The platform part of a service's settings; services subclass it to add their own."""

    model_config = SettingsConfigDict(extra="ignore")

    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    storage: StorageSettings = Field(default_factory=StorageSettings)
    telemetry: TelemetrySettings = Field(default_factory=TelemetrySettings)

    @property
    def trace_dir(self) -> Path:
        return self.telemetry.relais_trace_dir or self.storage.var_dir / "traces"
