"""Key stores: environment variable, file, HashiCorp Vault KV v2."""

from __future__ import annotations

from pathlib import Path

import httpx
from pydantic import SecretStr

from relais_decryptor.ports import KeyStore
from relais_decryptor.settings import DecryptorSettings


class KeyUnavailable(RuntimeError):
    pass


class EnvKeyStore:
    def __init__(self, secret: SecretStr | None) -> None:
        self._secret = secret

    async def private_key(self) -> bytes:
        if self._secret is None:
            raise KeyUnavailable("RELAIS_DECRYPTOR_PRIVATE_KEY n'est pas défini")
        return self._secret.get_secret_value().encode()


class FileKeyStore:
    def __init__(self, path: Path) -> None:
        self._path = path

    async def private_key(self) -> bytes:
        try:
            return self._path.read_bytes()
        except FileNotFoundError as error:
            raise KeyUnavailable(f"clé privée absente : {self._path}") from error


class VaultKeyStore:
    def __init__(self, addr: str, token: SecretStr | None, mount: str, path: str, field: str) -> None:
        self._url = f"{addr.rstrip('/')}/v1/{mount}/data/{path}"
        self._token = token
        self._field = field

    async def private_key(self) -> bytes:
        if self._token is None:
            raise KeyUnavailable("VAULT_TOKEN n'est pas défini")
        async with httpx.AsyncClient(timeout=10.0) as client:
            response = await client.get(self._url, headers={"X-Vault-Token": self._token.get_secret_value()})
        response.raise_for_status()
        try:
            return str(response.json()["data"]["data"][self._field]).encode()
        except KeyError as error:
            raise KeyUnavailable(f"champ {self._field!r} absent du secret Vault {self._url}") from error


def key_store_from(settings: DecryptorSettings) -> KeyStore:
    if settings.key_store == "env":
        return EnvKeyStore(settings.private_key)
    if settings.key_store == "vault":
        return VaultKeyStore(
            settings.vault_addr,
            settings.vault_token,
            settings.vault_mount,
            settings.vault_path,
            settings.vault_field,
        )
    return FileKeyStore(settings.private_key_file)
