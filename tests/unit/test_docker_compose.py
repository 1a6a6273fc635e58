"""docker-compose.yml cannot run here (no Docker engine): check that it parses, names every service, and that every
setting it passes is one the service really reads."""

import pytest
import yaml
from pydantic_settings import BaseSettings

from relais_decryptor.settings import DecryptorSettings
from relais_fetcher.settings import FetcherSettings, SftpSettings
from relais_platform.settings import DatabaseSettings, KafkaSettings, StorageSettings, TelemetrySettings
from relais_rpu_concentrator.settings import ConcentratorSettings
from relais_stack import project_root

ROOT = project_root()
SERVICES = sorted(p.name for p in (ROOT / "services").iterdir() if (p / "pyproject.toml").exists())


def env_names(*classes: type[BaseSettings]) -> set[str]:
    names = set()
    for cls in classes:
        prefix = cls.model_config.get("env_prefix", "")
        for field, info in cls.model_fields.items():
            if isinstance(info.default_factory, type) and issubclass(info.default_factory, BaseSettings):
                continue  # nested settings read their own variables
            names.add(f"{prefix}{field}".upper())
    return names


PLATFORM = env_names(KafkaSettings, DatabaseSettings, StorageSettings, TelemetrySettings) | {
    "OTEL_SERVICE_NAME",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
}
READ_BY = {
    "fetcher": PLATFORM | env_names(FetcherSettings, SftpSettings),
    "decryptor": PLATFORM | env_names(DecryptorSettings),
    "transformer": PLATFORM,
    "loader": PLATFORM,
    "rpu-concentrator": PLATFORM | env_names(ConcentratorSettings),
}


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_every_service_has_a_container_built_from_its_package(compose: dict) -> None:
    assert SERVICES == sorted(READ_BY)
    for name in SERVICES:
        container = compose["services"][name]
        assert container["build"]["args"]["SERVICE"] == name


def test_infrastructure_is_described(compose: dict) -> None:
    for name in ("kafka", "postgres", "otel-collector", "jaeger", "migrate"):
        assert name in compose["services"], name
    assert compose["services"]["kafka"]["image"].startswith("apache/kafka:4.")


@pytest.mark.parametrize("name", sorted(READ_BY))
def test_every_variable_given_to_a_service_is_a_setting_it_reads(compose: dict, name: str) -> None:
    env = compose["services"][name]["environment"]
    assert env["KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092"
    assert env["DATABASE_URL"].startswith("postgresql://")
    assert env["OTEL_SERVICE_NAME"] == name
    unknown = set(env) - READ_BY[name] - {"OTEL_TRACES_EXPORTER", "RELAIS_LOG_LEVEL"}
    assert not unknown, f"{name} is given variables it never reads: {sorted(unknown)}"
