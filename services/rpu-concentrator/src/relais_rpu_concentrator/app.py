"""Composition root of the RPU concentrator.

Today it joins the platform (broker, database, tracing, health); intake, integration and the onward exports are
added by the RPU issues on this same composition root.
"""

from __future__ import annotations

from faststream import FastStream
from relais_platform.runtime import Service, run

from relais_rpu_concentrator.settings import ConcentratorSettings


def create_app(settings: ConcentratorSettings | None = None) -> FastStream:
    settings = settings or ConcentratorSettings()
    service = Service("rpu-concentrator", settings)
    service.use_database()
    return service.app()


def main() -> None:
    run(create_app())
