"""Alert webhook (httpx POST of a JSON document, field names in French for the ARS's tools)."""

from __future__ import annotations

from typing import Any

import httpx

from relais_rpu_concentrator.outbound.absence import AbsenceAlert
from relais_rpu_concentrator.outbound.settings import WebhookSettings


def alert_document(alert: AbsenceAlert) -> dict[str, Any]:
    last = alert.last_file
    return {
        "type": "rpu.alerte_absence",
        "finess": alert.finess,
        "etablissement": alert.establishment_name,
        "jour": alert.day.isoformat(),
        "motif": alert.reason.value,
        "objet": alert.subject,
        "message": alert.message,
        "dernier_fichier": None
        if last is None
        else {"nom": last.name, "recu_le": last.received_at.isoformat()},
        "jours_manquants": [d.isoformat() for d in alert.missing_days],
        "passages_du_jour": alert.day_count,
        "seuil": alert.threshold,
    }


class Webhook:
    channel = "webhook"

    def __init__(self, settings: WebhookSettings, transport: httpx.AsyncBaseTransport | None = None) -> None:
        if not settings.url:
            raise ValueError("RELAIS_RPU_ALERT_WEBHOOK_URL is not set")
        self._url = settings.url
        self._settings = settings
        self._transport = transport

    async def notify(self, alert: AbsenceAlert) -> None:
        headers = {"Idempotency-Key": f"rpu-alert-{alert.finess}-{alert.day.isoformat()}"}
        if self._settings.token is not None:
            headers["Authorization"] = f"Bearer {self._settings.token.get_secret_value()}"
        async with httpx.AsyncClient(timeout=self._settings.timeout_s, transport=self._transport) as client:
            response = await client.post(self._url, json=alert_document(alert), headers=headers)
        response.raise_for_status()
