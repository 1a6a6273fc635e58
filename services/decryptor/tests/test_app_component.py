"""The decryptor's composition root on FastStream's in-memory broker: one event in, the right event out."""

from pathlib import Path

import pytest
from faststream.kafka import TestKafkaBroker

from relais_contracts import FileDecrypted, FileFetched, FileRejected, SourceSystem, Topic
from relais_decryptor.app import create_app
from relais_decryptor.settings import DecryptorSettings
from relais_platform.blobstore import FileSystemBlobStore
from relais_platform.settings import StorageSettings
from relais_testing.gpg import GpgKey


@pytest.fixture
def settings(tmp_path: Path, platform_key: GpgKey) -> DecryptorSettings:
    key = tmp_path / "key.asc"
    key.write_bytes(platform_key.secret_armored)
    return DecryptorSettings(
        private_key_file=key, work_dir=tmp_path / "work", storage=StorageSettings(var_dir=tmp_path / "var")
    )


def fetched_event(settings: DecryptorSettings, payload: bytes, name: str) -> FileFetched:
    ref = FileSystemBlobStore(settings.storage.blobs).put_bytes(payload)
    return FileFetched(
        source_system=SourceSystem.DIAMANT,
        file_name=name,
        remote_path=name,
        file_id=ref.sha256,
        blob=ref,
        source="ANN_RPU",
    )


async def test_a_fetched_file_comes_out_decrypted(
    settings: DecryptorSettings, platform_key: GpgKey, tmp_path: Path
) -> None:
    plain = tmp_path / "ANN_RPU_2026_11_20.CSV"
    plain.write_bytes(b"Finess;Ann\xc3\xa9e\n")
    encrypted = platform_key.encrypt(plain, tmp_path / "ANN_RPU_2026_11_20.CSV.gpg").read_bytes()
    app = create_app(settings)
    broker = app.broker
    assert broker is not None
    kafka = settings.kafka

    @broker.subscriber(kafka.topic(Topic.FILE_DECRYPTED))
    async def decrypted(event: FileDecrypted) -> None: ...

    @broker.subscriber(kafka.topic(Topic.FILE_REJECTED))
    async def rejected(event: FileRejected) -> None: ...

    async with TestKafkaBroker(broker) as test_broker:
        good = fetched_event(settings, encrypted, "ANN_RPU_2026_11_20.CSV.gpg")
        await test_broker.publish(good, kafka.topic(Topic.FILE_FETCHED))
        bad = fetched_event(settings, encrypted[:100], "ANN_RPU_2026_11_21.CSV.gpg")
        await test_broker.publish(bad, kafka.topic(Topic.FILE_FETCHED))

        out = FileDecrypted.model_validate(decrypted.mock.call_args.args[0])
        assert out.file_id == good.file_id and out.file_name == "ANN_RPU_2026_11_20.CSV"
        refused = FileRejected.model_validate(rejected.mock.call_args.args[0])
        assert refused.file_name == "ANN_RPU_2026_11_21.CSV.gpg" and refused.file_id == bad.file_id
