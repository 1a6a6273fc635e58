"""The ARS replay API over HTTP (Starlette, served by uvicorn inside the concentrator's lifespan).

    POST /replays          {"finess": "…", "first_day": "AAAA-MM-JJ", "last_day": "AAAA-MM-JJ"}
                           → 201 the new request, or 200 the existing one for that FINESS × period
    GET  /replays[?open=1] → the requests, most recent first (open: not closed)
    GET  /replays/{id}     → one request and its audit trail

Authentication: HTTP Basic against the intake accounts (rpu_account), with the scrypt hash of intake/passwords.py.
Only an active ARS account gets in: an establishment's valid credentials get 403, unknown or wrong ones 401 (an
unknown name costs the same hash as a known one). The requester recorded is the authenticated account. Requests
progress on every read, besides the periodic round of replay/wiring.py.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from relais_rpu_concentrator.intake.accounts import Role
from relais_rpu_concentrator.intake.passwords import DUMMY_HASH, verify_password
from relais_rpu_concentrator.ports import AccountDirectory
from relais_rpu_concentrator.replay.model import AuditEntry, InvalidReplayRequest, ReplayRequest
from relais_rpu_concentrator.replay.replays import Replays
from relais_rpu_concentrator.replay.settings import ReplayApiSettings

log = logging.getLogger(__name__)
REALM = 'Basic realm="relais-rpu", charset="UTF-8"'


def request_json(r: ReplayRequest) -> dict[str, Any]:
    return {
        "id": r.request_id,
        "finess": r.period.finess,
        "first_day": r.period.first_day.isoformat(),
        "last_day": r.period.last_day.isoformat(),
        "needed": r.needed,
        "reason": r.reason,
        "missing_days": [d.isoformat() for d in r.missing_days],
        "state": r.state.value,
        "requested_by": r.requested_by,
        "requested_at": r.requested_at.isoformat(),
        "data_received_at": r.data_received_at.isoformat() if r.data_received_at else None,
        "export_id": r.export_id,
        "sent_at": r.sent_at.isoformat() if r.sent_at else None,
        "closed_at": r.closed_at.isoformat() if r.closed_at else None,
    }


def audit_json(e: AuditEntry) -> dict[str, Any]:
    return {"at": e.at.isoformat(), "actor": e.actor, "action": e.action, "detail": e.detail}


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


class _Refused(Exception):
    """Raised by the authentication of a route; answered as is."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


async def _ars_user(request: Request, accounts: AccountDirectory) -> str:
    """The authenticated ARS account's name, or _Refused with 401 / 403."""
    unauthorized = _Refused(_error(401, "authentification requise", {"WWW-Authenticate": REALM}))
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        raise unauthorized
    try:
        name, sep, password = base64.b64decode(encoded, validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise unauthorized from None
    if not sep or not name:
        raise unauthorized
    account = await accounts.find(name)
    stored = account.password_hash if account and account.active and account.password_hash else DUMMY_HASH
    # scrypt costs ~0.1 s of CPU and 32 MiB: off the event loop, so intake and integration keep running.
    matches = await asyncio.to_thread(verify_password, password, stored)
    if account is None or not account.active or account.password_hash is None or not matches:
        raise unauthorized
    if account.role is not Role.ARS:
        raise _Refused(_error(403, "réservé aux comptes ARS"))
    return account.name


def _day(body: dict[str, Any], key: str) -> date:
    value = body.get(key)
    if not isinstance(value, str):
        raise InvalidReplayRequest(f"{key} manquant (AAAA-MM-JJ)")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidReplayRequest(f"{key} : date AAAA-MM-JJ attendue, reçu {value!r}") from None


def replay_app(replays: Replays, accounts: AccountDirectory) -> Starlette:
    async def create(request: Request) -> Response:
        by = await _ars_user(request, accounts)
        try:
            body = await request.json()
            if not isinstance(body, dict) or not isinstance(body.get("finess"), str):
                raise InvalidReplayRequest('corps JSON attendu : {"finess", "first_day", "last_day"}')
            found, created = await replays.request(
                body["finess"], _day(body, "first_day"), _day(body, "last_day"), by
            )
        except ValueError as error:  # InvalidReplayRequest, or a body that is not JSON
            return _error(422, str(error))
        log.info("replay request %s by %s (created=%s)", found.request_id, by, created)
        return JSONResponse({**request_json(found), "created": created}, status_code=201 if created else 200)

    async def listing(request: Request) -> Response:
        await _ars_user(request, accounts)
        open_only = request.query_params.get("open", "") in {"1", "true", "yes"}
        return JSONResponse([request_json(r) for r in await replays.requests(open_only=open_only)])

    async def show(request: Request) -> Response:
        await _ars_user(request, accounts)
        try:
            request_id = int(request.path_params["request_id"])
        except ValueError:
            return _error(404, "demande inconnue")
        found = await replays.get(request_id)
        if found is None:
            return _error(404, f"demande {request_id} inconnue")
        return JSONResponse({**request_json(found[0]), "audit": [audit_json(e) for e in found[1]]})

    async def refused(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, _Refused)
        return exc.response

    return Starlette(
        routes=[
            Route("/replays", create, methods=["POST"]),
            Route("/replays", listing, methods=["GET"]),
            Route("/replays/{request_id}", show, methods=["GET"]),
        ],
        exception_handlers={_Refused: refused},
    )


class _EmbeddedServer(uvicorn.Server):
    """uvicorn inside another process's lifespan: the service owns the signals and decides when to stop."""

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@dataclass(frozen=True)
class RunningApi:
    host: str
    port: int

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


@asynccontextmanager
async def serve_replay_api(
    settings: ReplayApiSettings, replays: Replays, accounts: AccountDirectory
) -> AsyncIterator[RunningApi]:
    """Serve the API until the context exits."""
    # Bound here rather than by uvicorn: a port in use fails the service's start with OSError, not sys.exit.
    sock = socket.create_server((settings.host, settings.port))
    config = uvicorn.Config(replay_app(replays, accounts), lifespan="off", log_config=None, access_log=False)
    server = _EmbeddedServer(config)
    serving = asyncio.create_task(server.serve(sockets=[sock]))

    try:
        for _ in range(500):  # bounded: uvicorn sets `started` once it accepts on the socket
            if server.started or serving.done():
                break
            await asyncio.sleep(0.01)
        if not server.started:
            raise RuntimeError("the replay API did not start")
        host, port = sock.getsockname()[:2]
        log.info("replay API listening on http://%s:%s", host, port)
        yield RunningApi(host, port)
    finally:
        server.should_exit = True
        await serving
        sock.close()
