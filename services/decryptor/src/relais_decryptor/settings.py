from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import SecretStr
from pydantic_settings import SettingsConfigDict

from relais_platform.settings import PlatformSettings


class DecryptorSettings(PlatformSettings):
    """Where the DIAMANT private key comes from: `env` (RELAIS_DECRYPTOR_PRIVATE_KEY, armored), `file`
    (RELAIS_DECRYPTOR_PRIVATE_KEY_FILE) or `vault` (HashiCorp Vault KV v2: VAULT_ADDR, VAULT_TOKEN, and the path)."""

    model_config = SettingsConfigDict(env_prefix="RELAIS_DECRYPTOR_", extra="ignore")

    key_store: Literal["env", "file", "vault"] = "file"
    private_key: SecretStr | None = None
    private_key_file: Path = Path("var/keys/diamant-private.asc")
    vault_addr: str = "http://127.0.0.1:8200"
    vault_token: SecretStr | None = None
    vault_mount: str = "secret"
    vault_path: str = "relais/diamant"
    vault_field: str = "private_key"
    work_dir: Path = Path("var/decryptor")
