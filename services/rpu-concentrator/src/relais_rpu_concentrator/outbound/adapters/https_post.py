"""HTTPS POST (httpx): one request per file, the body is the file, `Idempotency-Key` is its SHA-256.

A resend after a crash carries the same key, so the receiver keeps one copy. 2xx is delivered; 408, 429 and 5xx
(and network errors) are tried again later; any other status is a refusal.
"""

from __future__ import annotations

import base64
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import httpx

from relais_rpu_concentrator.outbound.model import PlannedFile
from relais_rpu_concentrator.outbound.ports import DeliveryError, DeliveryRefused
from relais_rpu_concentrator.outbound.settings import HttpDestinationSettings

CHUNK = 1 << 20
RETRYABLE = {408, 425, 429}


async def _chunks(path: Path) -> AsyncIterator[bytes]:
    with path.open("rb") as source:
        while chunk := source.read(CHUNK):
            yield chunk


class HttpsPost:
    def __init__(
        self, name: str, settings: HttpDestinationSettings, transport: httpx.AsyncBaseTransport | None = None
    ):
        self.name = name
        self._settings = settings
        self._transport = transport

    async def send(self, export_id: str, file: PlannedFile, content: Path) -> None:
        s = self._settings
        headers = {
            "Idempotency-Key": file.sha256,
            "Content-Type": file.media_type,
            "Content-Digest": f"sha-256=:{base64.b64encode(bytes.fromhex(file.sha256)).decode()}:",
            "X-Relais-Export-Id": export_id,
            "X-Relais-File-Name": file.name,
        }
        if s.token is not None:
            headers["Authorization"] = f"Bearer {s.token.get_secret_value()}"
        url = s.url.rstrip("/") + "/" + file.name if s.append_file_name else s.url
        try:
            # A private CA (a ministry or regional PKI) when configured, else the system trust store.
            verify = ssl.create_default_context(cafile=str(s.ca_file)) if s.ca_file else True
            async with httpx.AsyncClient(
                timeout=s.timeout_s, verify=verify, transport=self._transport
            ) as client:
                headers["Content-Length"] = str(file.size)
                response = await client.post(url, content=_chunks(content), headers=headers)
        except httpx.HTTPError as error:
            raise DeliveryError(f"{url}: {type(error).__name__}: {error}") from error
        if response.is_success:
            return
        detail = f"{url}: HTTP {response.status_code} {response.text[:200]}"
        if response.status_code in RETRYABLE or response.status_code >= 500:
            raise DeliveryError(detail)
        raise DeliveryRefused(detail)
