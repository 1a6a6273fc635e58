"""The intake seen from the OpenSSH `sftp` command-line client, as most establishments' scripts use it.

Each refused operation runs in its own batch: `sftp -b` stops at the first failing command and exits non-zero.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from .conftest import MAX_FILE_BYTES, Intake

pytestmark = pytest.mark.integration


async def test_openssh_pushes_a_file_and_an_upload_renamed_after_transfer(
    intake: Intake, tmp_path: Path
) -> None:
    login = await intake.establishment()
    first, second = tmp_path / "first.xml", tmp_path / "second.xml"
    first.write_bytes(b"<OSCOUR>first</OSCOUR>")
    second.write_bytes(b"<OSCOUR>second</OSCOUR>")

    code, output = await intake.openssh(
        login,
        f"put {first} depot/RPU_1.xml",
        f"put {second} depot/RPU_2.xml.part",
        "ls depot",
        "rename depot/RPU_2.xml.part depot/RPU_2.xml",
        "ls accuses",
    )

    assert code == 0, output
    assert "RPU_2.xml.part" in output  # listed while in transit
    assert [(e.file_name, e.file_id) for e in intake.received] == [
        ("RPU_1.xml", hashlib.sha256(first.read_bytes()).hexdigest()),
        ("RPU_2.xml", hashlib.sha256(second.read_bytes()).hexdigest()),
    ]
    assert {e.finess for e in intake.received} == {login.name}
    assert intake.depot(login.name) == []


async def test_openssh_client_is_confined_to_its_own_depot_and_receipts(
    intake: Intake, tmp_path: Path
) -> None:
    mine, other = await intake.establishment(), await intake.establishment()
    intake.write_receipt(other.name, "theirs.ack", b"other")
    intake.write_receipt(mine.name, "mine.ack", b"mine")
    local = tmp_path / "RPU.xml"
    local.write_bytes(b"<OSCOUR/>")

    refused = [
        f"ls /{other.name}",
        f"ls ../{other.name}/accuses",
        f"cd ../{other.name}",
        f"get ../{other.name}/accuses/theirs.ack {tmp_path / 'stolen'}",
        f"put {local} ../{other.name}/depot/RPU.xml",
        f"put {local} /{other.name}/depot/RPU.xml",
        f"put {local} accuses/forged.ack",
        "rm accuses/mine.ack",
        "rename accuses/mine.ack accuses/moved.ack",
        "ln -s accuses/mine.ack depot/link.xml",
        "symlink /accuses depot/link",
        "mkdir depot/sub",
        f"get depot {tmp_path / 'x'}",
    ]
    for command in refused:
        code, output = await intake.openssh(mine, command)
        assert code != 0, f"{command!r} was accepted: {output}"

    code, output = await intake.openssh(mine, "ls", f"get accuses/mine.ack {tmp_path / 'mine.ack'}")
    assert code == 0, output
    assert (tmp_path / "mine.ack").read_bytes() == b"mine"
    assert not (tmp_path / "stolen").exists()
    assert intake.depot(other.name) == [] and intake.received == []


async def test_openssh_oversized_upload_is_refused_and_nothing_received(
    intake: Intake, tmp_path: Path
) -> None:
    login = await intake.establishment()
    big = tmp_path / "big.xml"
    big.write_bytes(b"x" * (MAX_FILE_BYTES + 1))

    code, output = await intake.openssh(login, f"put {big} depot/RPU_big.xml")

    assert code != 0, output
    assert intake.received == [] and intake.depot(login.name) == []


async def test_openssh_wrong_key_and_disabled_account_are_refused(intake: Intake) -> None:
    login, other = await intake.establishment(), await intake.establishment()
    code, output = await intake.openssh(login, "ls", key=other.key)
    assert code != 0 and "Permission denied" in output, output

    assert (await intake.openssh(login, "ls"))[0] == 0
    await intake.accounts.disable(login.name)
    code, output = await intake.openssh(login, "ls")
    assert code != 0 and "Permission denied" in output, output


async def test_openssh_ars_reads_every_establishment_and_writes_none(intake: Intake, tmp_path: Path) -> None:
    establishment, ars = await intake.establishment(), await intake.ars()
    intake.write_receipt(establishment.name, "r.ack", b"receipt")
    local = tmp_path / "RPU.xml"
    local.write_bytes(b"<OSCOUR/>")

    code, output = await intake.openssh(
        ars,
        "ls /",
        f"ls /{establishment.name}/accuses",
        f"get /{establishment.name}/accuses/r.ack {tmp_path}/r",
    )
    assert code == 0, output
    assert establishment.name in output and "r.ack" in output
    assert (tmp_path / "r").read_bytes() == b"receipt"

    for command in (
        f"put {local} /{establishment.name}/depot/RPU.xml",
        f"rm /{establishment.name}/accuses/r.ack",
        "mkdir /x",
    ):
        code, output = await intake.openssh(ars, command)
        assert code != 0, f"{command!r} was accepted: {output}"
    assert intake.depot(establishment.name) == [] and intake.received == []
