"""The intake seen from an asyncssh SFTP client: what an establishment and an ARS account may and may not do."""

from __future__ import annotations

import asyncio
import hashlib
import os
from datetime import UTC, datetime

import asyncssh
import pytest

from .conftest import MAX_FILE_BYTES, Intake

pytestmark = pytest.mark.integration

RPU = b'<?xml version="1.0" encoding="ISO-8859-1"?>\r\n<OSCOUR><PASSAGES/></OSCOUR>\r\n'


def names(entries: list[str]) -> list[str]:
    return sorted(n for n in entries if n not in (".", ".."))


async def test_a_pushed_file_is_received_once_with_its_sha256(intake: Intake) -> None:
    login = await intake.establishment()
    async with intake.connect(login) as conn, conn.start_sftp_client() as sftp:
        async with sftp.open("depot/RPU_1.xml", "wb") as remote:
            await remote.write(RPU)
        assert names(await sftp.listdir("depot")) == []
        assert names(await sftp.listdir("/")) == ["accuses", "depot"]  # the archive is not shown

    [event] = intake.received
    assert (event.finess, event.account, event.file_name) == (login.name, login.name, "RPU_1.xml")
    assert event.file_id == event.blob.sha256 == hashlib.sha256(RPU).hexdigest()
    with intake.blobs.open(event.blob) as stored:
        assert stored.read() == RPU
    day = datetime.now(UTC).strftime("%Y%m%d")
    [archived] = (intake.root / login.name / ".archive" / day).iterdir()
    assert archived.name.endswith("_RPU_1.xml") and archived.read_bytes() == RPU


async def test_an_upload_under_a_temporary_name_counts_once_at_its_rename(intake: Intake) -> None:
    login = await intake.establishment()
    async with intake.connect(login) as conn, conn.start_sftp_client() as sftp:
        for temporary in ("depot/RPU_2.xml.part", "depot/.RPU_3.xml", "depot/RPU_4.tmp"):
            async with sftp.open(temporary, "wb") as remote:
                await remote.write(RPU + temporary.encode())
        assert intake.received == []
        assert names(await sftp.listdir("depot")) == [".RPU_3.xml", "RPU_2.xml.part", "RPU_4.tmp"]

        await sftp.rename("depot/RPU_2.xml.part", "depot/RPU_2.xml")
        await sftp.posix_rename("depot/.RPU_3.xml", "depot/RPU_3.xml")
        await sftp.rename("depot/RPU_4.tmp", "depot/RPU_4.part")  # still temporary: not received
        assert names(await sftp.listdir("depot")) == ["RPU_4.part"]

    assert [e.file_name for e in intake.received] == ["RPU_2.xml", "RPU_3.xml"]
    assert intake.received[0].file_id == hashlib.sha256(RPU + b"depot/RPU_2.xml.part").hexdigest()


async def test_an_upload_cut_by_a_dropped_connection_is_not_received(intake: Intake) -> None:
    login = await intake.establishment()
    conn = await intake.connect(login)
    sftp = await conn.start_sftp_client()
    remote = await sftp.open("depot/RPU_cut.xml", "wb")
    await remote.write(RPU)
    await sftp.stat("depot")  # the write has been processed by the server
    assert intake.depot(login.name) == ["RPU_cut.xml"]
    conn.abort()

    for _ in range(100):
        if not intake.depot(login.name):
            break
        await asyncio.sleep(0.05)
    assert intake.depot(login.name) == []
    assert intake.received == []


async def test_another_establishments_folder_is_out_of_reach(intake: Intake) -> None:
    mine, other = await intake.establishment(), await intake.establishment()
    intake.write_receipt(other.name, "RPU_1.xml.ack", b"secret")
    async with intake.connect(mine) as conn, conn.start_sftp_client() as sftp:
        assert names(await sftp.listdir("/")) == ["accuses", "depot"]
        with pytest.raises(asyncssh.SFTPNoSuchFile):
            await sftp.listdir(f"/{other.name}/accuses")
        with pytest.raises(asyncssh.SFTPNoSuchFile):
            await sftp.open(f"/{other.name}/accuses/RPU_1.xml.ack", "rb")
        with pytest.raises(asyncssh.SFTPPermissionDenied):
            await sftp.listdir(f"../{other.name}/accuses")
        with pytest.raises(asyncssh.SFTPPermissionDenied):
            await sftp.open(f"../{other.name}/depot/RPU_x.xml", "wb")
        with pytest.raises(asyncssh.SFTPPermissionDenied):
            await sftp.open(f"depot/../../{other.name}/accuses/RPU_1.xml.ack", "rb")
    assert intake.depot(other.name) == [] and intake.received == []


async def test_dot_dot_traversal_is_refused(intake: Intake) -> None:
    login = await intake.establishment()
    async with intake.connect(login) as conn, conn.start_sftp_client() as sftp:
        for path in ("..", "/..", "depot/../..", "../../../etc"):
            with pytest.raises(asyncssh.SFTPPermissionDenied, match="sort de votre dossier"):
                await sftp.listdir(path)
        with pytest.raises(asyncssh.SFTPPermissionDenied):
            await sftp.open("/../../../../etc/passwd", "rb")
        with pytest.raises(asyncssh.SFTPPermissionDenied):
            await sftp.open("depot/../../evil.xml", "wb")
        assert await sftp.realpath("depot/../accuses") == "/accuses"  # inside the folder: fine
    assert not (intake.root / "evil.xml").exists()


async def test_links_are_refused_and_links_on_disk_are_never_followed(intake: Intake) -> None:
    mine, other = await intake.establishment(), await intake.establishment()
    target = intake.write_receipt(other.name, "theirs.ack", b"other establishment")
    os.symlink(target, intake.root / mine.name / "accuses" / "planted.ack")
    os.symlink(intake.root / other.name / "depot", intake.root / mine.name / "depot" / "planted")
    async with intake.connect(mine) as conn, conn.start_sftp_client() as sftp:
        async with sftp.open("depot/a.part", "wb") as remote:
            await remote.write(b"x")
        with pytest.raises(asyncssh.SFTPPermissionDenied, match="liens"):
            await sftp.symlink("/accuses", "depot/link")
        with pytest.raises(asyncssh.SFTPPermissionDenied, match="liens"):
            await sftp.link("depot/a.part", "depot/hard.xml")
        with pytest.raises(asyncssh.SFTPPermissionDenied, match="liens"):
            await sftp.readlink("accuses/planted.ack")
        assert names(await sftp.listdir("accuses")) == []
        assert names(await sftp.listdir("depot")) == ["a.part"]
        with pytest.raises(asyncssh.SFTPNoSuchFile):
            await sftp.open("accuses/planted.ack", "rb")
        with pytest.raises(asyncssh.SFTPNoSuchFile):
            await sftp.open("depot/planted/new.xml", "wb")
    assert not (intake.root / mine.name / "depot" / "link").exists()
    assert intake.depot(other.name) == [] and intake.received == []


async def test_receipts_are_read_only_and_the_depot_write_only(intake: Intake) -> None:
    login = await intake.establishment()
    intake.write_receipt(login.name, "RPU_1.xml.ack", b"<ACCUSE/>")
    async with intake.connect(login) as conn, conn.start_sftp_client() as sftp:
        async with sftp.open("accuses/RPU_1.xml.ack", "rb") as receipt:
            assert await receipt.read() == b"<ACCUSE/>"
        with pytest.raises(asyncssh.SFTPPermissionDenied, match="accuses/ est en lecture seule"):
            await sftp.open("accuses/forged.ack", "wb")
        with pytest.raises(asyncssh.SFTPPermissionDenied):
            await sftp.remove("accuses/RPU_1.xml.ack")
        with pytest.raises(asyncssh.SFTPPermissionDenied):
            await sftp.rename("accuses/RPU_1.xml.ack", "accuses/other.ack")
        with pytest.raises(asyncssh.SFTPPermissionDenied):
            await sftp.rename("accuses/RPU_1.xml.ack", "depot/RPU_1.xml")
        with pytest.raises(asyncssh.SFTPPermissionDenied):
            await sftp.mkdir("depot/sub")
        async with sftp.open("depot/pending.part", "wb") as remote:
            await remote.write(b"in transit")
        with pytest.raises(asyncssh.SFTPPermissionDenied, match="écriture seule"):
            await sftp.open("depot/pending.part", "rb")
        await sftp.remove("depot/pending.part")  # its own file in transit: may be withdrawn
    assert sorted(p.name for p in (intake.root / login.name / "accuses").iterdir()) == ["RPU_1.xml.ack"]
    assert intake.received == []


async def test_an_oversized_file_is_refused_deleted_and_not_received(intake: Intake) -> None:
    login = await intake.establishment()
    async with intake.connect(login) as conn, conn.start_sftp_client() as sftp:
        with pytest.raises(asyncssh.SFTPFailure, match="trop volumineux"):
            async with sftp.open("depot/RPU_big.xml", "wb") as remote:
                for _ in range(MAX_FILE_BYTES // 8192 + 1):
                    await remote.write(b"x" * 8192)
        assert names(await sftp.listdir("depot")) == []
        async with sftp.open("depot/RPU_ok.xml", "wb") as remote:  # the session goes on
            await remote.write(b"x" * MAX_FILE_BYTES)
    assert [e.file_name for e in intake.received] == ["RPU_ok.xml"]


async def test_a_failed_publication_asks_the_client_to_send_again(intake: Intake) -> None:
    login = await intake.establishment()
    intake.sink.fail = True
    async with intake.connect(login) as conn, conn.start_sftp_client() as sftp:
        with pytest.raises(asyncssh.SFTPFailure, match="merci de le renvoyer"):
            async with sftp.open("depot/RPU_1.xml", "wb") as remote:
                await remote.write(RPU)
    assert intake.depot(login.name) == [] and intake.received == []


async def test_a_disabled_account_is_refused(intake: Intake) -> None:
    login = await intake.establishment()
    async with intake.connect(login) as conn:
        assert conn.get_extra_info("username") == login.name
    disabled = await intake.accounts.disable(login.name)
    assert disabled is not None and not disabled.active and disabled.disabled_at is not None
    with pytest.raises(asyncssh.PermissionDenied):
        async with intake.connect(login):
            pass


async def test_a_wrong_key_or_an_unknown_account_is_refused(intake: Intake) -> None:
    login, other = await intake.establishment(), await intake.establishment()
    with pytest.raises(asyncssh.PermissionDenied):
        async with intake.connect(login, key=other.key):
            pass
    with pytest.raises(asyncssh.PermissionDenied):
        async with intake.connect(type(login)("123456782", login.key)):
            pass


async def test_the_ars_account_reads_every_establishment_and_writes_none(intake: Intake) -> None:
    first, second, ars = await intake.establishment(), await intake.establishment(), await intake.ars()
    intake.write_receipt(first.name, "a.ack", b"first")
    intake.write_receipt(second.name, "b.ack", b"second")
    async with intake.connect(ars) as conn, conn.start_sftp_client() as sftp:
        assert {first.name, second.name} <= set(names(await sftp.listdir("/")))
        assert names(await sftp.listdir(f"/{first.name}")) == ["accuses", "depot"]
        assert names(await sftp.listdir(f"/{second.name}/accuses")) == ["b.ack"]
        async with sftp.open(f"/{first.name}/accuses/a.ack", "rb") as receipt:
            assert await receipt.read() == b"first"
        with pytest.raises(asyncssh.SFTPPermissionDenied, match="ARS en lecture seule"):
            await sftp.open(f"/{first.name}/depot/RPU_x.xml", "wb")
        with pytest.raises(asyncssh.SFTPPermissionDenied):
            await sftp.open(f"/{first.name}/accuses/a.ack", "r+b")
        with pytest.raises(asyncssh.SFTPPermissionDenied):
            await sftp.remove(f"/{second.name}/accuses/b.ack")
        with pytest.raises(asyncssh.SFTPPermissionDenied):
            await sftp.rename(f"/{second.name}/accuses/b.ack", f"/{second.name}/accuses/c.ack")
        with pytest.raises(asyncssh.SFTPPermissionDenied):
            await sftp.mkdir("/new")
        with pytest.raises(asyncssh.SFTPPermissionDenied):
            await sftp.listdir("/..")
    assert intake.depot(first.name) == [] and intake.received == []


async def test_password_login_works_when_set_and_only_a_hash_is_stored(intake: Intake) -> None:
    secret = "Urgences-2024!"
    login = await intake.establishment(password=secret)
    async with intake.connect(login, password=secret) as conn, conn.start_sftp_client() as sftp:
        async with sftp.open("depot/RPU_pw.xml", "wb") as remote:
            await remote.write(RPU)
    assert [e.file_name for e in intake.received] == ["RPU_pw.xml"]
    with pytest.raises(asyncssh.PermissionDenied):
        async with intake.connect(login, password="wrong"):
            pass
    keys_only = await intake.establishment()
    with pytest.raises(asyncssh.PermissionDenied):
        async with intake.connect(keys_only, password=""):
            pass
    stored = await intake.pool.fetchval(
        "SELECT password_hash FROM rpu_account WHERE account = $1", login.name
    )
    assert stored.startswith("scrypt$") and secret not in stored


async def test_a_folder_replaced_by_a_link_on_disk_is_not_served(intake: Intake) -> None:
    mine, other = await intake.establishment(), await intake.establishment()
    intake.write_receipt(other.name, "theirs.ack", b"other establishment")
    accuses = intake.root / mine.name / "accuses"
    accuses.rmdir()
    os.symlink(intake.root / other.name / "accuses", accuses)
    async with intake.connect(mine) as conn, conn.start_sftp_client() as sftp:
        assert names(await sftp.listdir("/")) == ["depot"]
        with pytest.raises(asyncssh.SFTPNoSuchFile):
            await sftp.listdir("accuses")
        with pytest.raises(asyncssh.SFTPNoSuchFile):
            await sftp.open("accuses/theirs.ack", "rb")
