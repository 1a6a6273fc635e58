"""HTTPS delivery over real TLS (a private CA pinned by `ca_file`), and the active establishments read from the
intake accounts on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import hashlib
import random
import ssl
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pydantic import SecretStr

from relais_rpu_concentrator.outbound.adapters.https_post import HttpsPost
from relais_rpu_concentrator.outbound.adapters.pg_establishments import PostgresActiveEstablishments
from relais_rpu_concentrator.outbound.model import PlannedFile
from relais_rpu_concentrator.outbound.ports import DeliveryError
from relais_rpu_concentrator.outbound.settings import HttpDestinationSettings
from relais_synthetic.finess import random_finess


def self_signed(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(IPv4Address("127.0.0.1"))]), critical=False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


@pytest.fixture
def tls_receiver(tmp_path: Path) -> Iterator[tuple[str, Path, list[dict[str, Any]]]]:
    cert, key = self_signed(tmp_path)
    received: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append({"path": self.path, "headers": dict(self.headers), "body": body})
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}/oscour", cert, received
    finally:
        server.shutdown()
        server.server_close()


def planned(tmp_path: Path, content: bytes) -> tuple[PlannedFile, Path]:
    path = tmp_path / "export.xml"
    path.write_bytes(content)
    sha = hashlib.sha256(content).hexdigest()
    return PlannedFile("oscour-670780055.xml", sha, len(content), 0, "application/xml"), path


async def test_https_post_sends_the_file_with_its_sha256_as_idempotency_key_and_the_bearer_token(
    tls_receiver: tuple[str, Path, list[dict[str, Any]]], tmp_path: Path
) -> None:
    url, ca, received = tls_receiver
    file, path = planned(tmp_path, b"<OSCOUR>" + b"x" * 3_000_000 + b"</OSCOUR>")
    destination = HttpsPost("spf", HttpDestinationSettings(url=url, ca_file=ca, token=SecretStr("jeton")))

    await destination.send("spf-2026-11-25", file, path)

    [request] = received
    assert request["path"] == "/oscour/oscour-670780055.xml"
    assert request["body"] == path.read_bytes()
    assert request["headers"]["Idempotency-Key"] == file.sha256
    assert request["headers"]["Authorization"] == "Bearer jeton"
    assert request["headers"]["X-Relais-Export-Id"] == "spf-2026-11-25"


async def test_https_post_refuses_a_receiver_whose_certificate_is_not_trusted(
    tls_receiver: tuple[str, Path, list[dict[str, Any]]], tmp_path: Path
) -> None:
    url, _, received = tls_receiver
    file, path = planned(tmp_path, b"<OSCOUR/>")
    with pytest.raises(DeliveryError, match="CERTIFICATE_VERIFY_FAILED"):
        await HttpsPost("spf", HttpDestinationSettings(url=url)).send("spf-x", file, path)
    assert received == []


@pytest.mark.integration
async def test_active_establishments_are_the_active_intake_accounts(database_url: str) -> None:
    rng = random.Random(uuid.uuid4().int)
    active, disabled = random_finess(rng), random_finess(rng)
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(
            "INSERT INTO rpu_account (account, role, finess) VALUES ($1::text, 'etablissement', $1), ($2::text, 'etablissement', $2)",
            active,
            disabled,
        )
        await conn.execute(
            "UPDATE rpu_account SET active = false, disabled_at = now() WHERE account = $1", disabled
        )
        pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
        try:
            found = {e.finess for e in await PostgresActiveEstablishments(pool).active()}
        finally:
            await pool.close()
    finally:
        await conn.close()
    assert active in found and disabled not in found
