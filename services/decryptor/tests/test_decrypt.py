from pathlib import Path

import pytest
from pydantic import SecretStr

from relais_contracts import FileDecrypted, FileFetched, FileRejected, SourceSystem, Stage
from relais_decryptor.adapters.keystores import EnvKeyStore, FileKeyStore, KeyUnavailable
from relais_decryptor.adapters.sequoia import SequoiaDecryptor
from relais_decryptor.decrypt import DecryptFile
from relais_platform.blobstore import FileSystemBlobStore
from relais_testing.gpg import GpgKey

CSV = "Finess;Année;Nombre de passages aux urgences\r\n010000024;2024;31250\r\n".encode()
NAME = "ANN_RPU_2026_11_20.CSV.gpg"


def fetched(blobs: FileSystemBlobStore, payload: bytes) -> FileFetched:
    ref = blobs.put_bytes(payload)
    return FileFetched(
        source_system=SourceSystem.DIAMANT,
        file_name=NAME,
        remote_path=f"DIAMANT/incoming/{NAME}",
        file_id=ref.sha256,
        blob=ref,
        source="ANN_RPU",
    )


@pytest.fixture
def encrypted(tmp_path: Path, platform_key: GpgKey) -> bytes:
    (tmp_path / "plain.csv").write_bytes(CSV)
    return platform_key.encrypt(tmp_path / "plain.csv", tmp_path / NAME).read_bytes()


def use_case(tmp_path: Path, key: GpgKey) -> tuple[DecryptFile, FileSystemBlobStore]:
    blobs = FileSystemBlobStore(tmp_path / "blobs")
    keys = EnvKeyStore(SecretStr(key.secret_armored.decode()))
    return DecryptFile(keys, SequoiaDecryptor(), blobs, tmp_path / "work"), blobs


async def test_a_gnupg_file_is_decrypted_into_a_new_blob(
    tmp_path: Path, platform_key: GpgKey, encrypted: bytes
) -> None:
    decrypt, blobs = use_case(tmp_path, platform_key)
    event = fetched(blobs, encrypted)
    outcome = await decrypt(event)
    assert isinstance(outcome, FileDecrypted)
    assert outcome.file_name == "ANN_RPU_2026_11_20.CSV"
    assert outcome.file_id == event.file_id and outcome.encrypted == event.blob
    with blobs.open(outcome.plaintext) as handle:
        assert handle.read() == CSV


async def test_a_file_for_another_key_is_rejected_and_kept(
    tmp_path: Path, other_key: GpgKey, encrypted: bytes
) -> None:
    decrypt, blobs = use_case(tmp_path, other_key)
    event = fetched(blobs, encrypted)
    outcome = await decrypt(event)
    assert isinstance(outcome, FileRejected)
    assert outcome.stage is Stage.DECRYPT and outcome.file_name == NAME
    assert "mauvaise clé" in outcome.reason
    assert outcome.blob == event.blob and blobs.path(event.blob).read_bytes() == encrypted


@pytest.mark.parametrize("damage", ["truncated", "corrupted"])
async def test_a_damaged_file_is_rejected_with_its_reason(
    tmp_path: Path, platform_key: GpgKey, encrypted: bytes, damage: str
) -> None:
    decrypt, blobs = use_case(tmp_path, platform_key)
    payload = encrypted[: len(encrypted) // 2] if damage == "truncated" else encrypted[:-40] + bytes(40)
    outcome = await decrypt(fetched(blobs, payload))
    assert isinstance(outcome, FileRejected)
    assert "tronqué" in outcome.reason or "corrompu" in outcome.reason or "intégrité" in outcome.reason
    assert not list((tmp_path / "work").rglob("*.CSV")), "no partial plaintext left behind"


async def test_a_blob_altered_after_reception_is_rejected(
    tmp_path: Path, platform_key: GpgKey, encrypted: bytes
) -> None:
    decrypt, blobs = use_case(tmp_path, platform_key)
    event = fetched(blobs, encrypted)
    # The last byte changed, whatever it was (writing a fixed byte left the file intact one time in 256).
    blobs.path(event.blob).write_bytes(encrypted[:-1] + bytes([encrypted[-1] ^ 0xFF]))
    outcome = await decrypt(event)
    assert isinstance(outcome, FileRejected) and "altéré" in outcome.reason


async def test_key_stores_say_what_is_missing(tmp_path: Path) -> None:
    with pytest.raises(KeyUnavailable, match="RELAIS_DECRYPTOR_PRIVATE_KEY"):
        await EnvKeyStore(None).private_key()
    with pytest.raises(KeyUnavailable, match="absente"):
        await FileKeyStore(tmp_path / "nope.asc").private_key()


async def test_an_unencrypted_public_file_is_passed_on_after_its_integrity_check(
    tmp_path: Path, platform_key: GpgKey
) -> None:
    decrypt, blobs = use_case(tmp_path, platform_key)
    ref = blobs.put_bytes(b"finess;etalab;100;2026-11-01\n")
    event = FileFetched(
        source_system=SourceSystem.FINESS,
        file_name="etalab-cs1100507-stock-20261101-0332.csv",
        remote_path="x",
        file_id=ref.sha256,
        blob=ref,
        source="FINESS_OPENDATA_ET",
    )
    outcome = await decrypt(event)
    assert isinstance(outcome, FileDecrypted) and outcome.plaintext == ref
    blobs.path(ref).write_bytes(b"tampered")
    assert isinstance(await decrypt(event), FileRejected)


async def test_an_unencrypted_diamant_file_is_refused_not_passed_on(
    tmp_path: Path, platform_key: GpgKey
) -> None:
    # DIAMANT extracts arrive encrypted (`.CSV.gpg`); a plain `.CSV` in the DIAMANT inbox carries no OpenPGP integrity
    # check and is not the producer's file: refused by name, kept, never passed on as the FINESS files are.
    decrypt, blobs = use_case(tmp_path, platform_key)
    ref = blobs.put_bytes(CSV)
    event = FileFetched(
        source_system=SourceSystem.DIAMANT,
        file_name="ANN_RPU_2026_11_20.CSV",
        remote_path="DIAMANT/incoming/ANN_RPU_2026_11_20.CSV",
        file_id=ref.sha256,
        blob=ref,
        source="ANN_RPU",
    )
    outcome = await decrypt(event)
    assert isinstance(outcome, FileRejected), outcome
    assert outcome.stage is Stage.DECRYPT and outcome.file_name == "ANN_RPU_2026_11_20.CSV"
    assert "non chiffré" in outcome.reason and outcome.blob == ref


async def test_a_finess_file_is_not_encrypted_and_passes_on(tmp_path: Path, platform_key: GpgKey) -> None:
    decrypt, blobs = use_case(tmp_path, platform_key)
    ref = blobs.put_bytes(b"<xml/>")
    name = "finess_cs1400102_stock_20261120-0400.xml.gz"
    event = FileFetched(
        source_system=SourceSystem.FINESS,
        file_name=name,
        remote_path=f"FINESS/incoming/{name}",
        file_id=ref.sha256,
        blob=ref,
        source="cs1400102",
    )
    outcome = await decrypt(event)
    assert isinstance(outcome, FileDecrypted) and outcome.plaintext == ref
