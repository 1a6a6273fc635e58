"""The transform use case on DIAMANT files: a decrypted file in, its rows (an Arrow IPC blob per target table), the
years it speaks for and its quality report (or a rejection naming the file and the reason) out; FINESS referential
files too."""

import json
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from relais_contracts import FileDecrypted, FileRejected, FileTransformed, SourceSystem
from relais_diamant.definitions import labels
from relais_diamant.sources import DiamantSource
from relais_platform.blobstore import FileSystemBlobStore
from relais_transformer.adapters.diamant import DiamantTransform
from relais_transformer.adapters.dispatch import BySource
from relais_transformer.adapters.finess import FinessTransform
from relais_transformer.partitions import InTurn
from relais_transformer.ports import KnownFiness
from relais_transformer.transform import TransformFile

EJ1 = "010000016"
ET1, ET2 = "010000115", "010000123"
KNOWN = KnownFiness(frozenset({ET1, ET2}), frozenset({EJ1}), {ET1: EJ1, ET2: EJ1})
MEDICO_SOCIAL = ["ANN_MS_TDP_ET", "ANN_ERRD_EJ_ET", "ANN_CA_EJ_ET", "ANN_ERRD_EJ", "ANN_PER_ERRD_EPRD"]


class FixedReferential:
    async def current(self) -> KnownFiness:
        return KNOWN


@pytest.fixture
def blobs(tmp_path: Path) -> FileSystemBlobStore:
    return FileSystemBlobStore(tmp_path / "blobs")


def decrypted(blobs: FileSystemBlobStore, name: str, text: str, source: str) -> FileDecrypted:
    ref = blobs.put_bytes(text.encode())
    return FileDecrypted(
        source_system=SourceSystem.DIAMANT,
        file_name=name,
        file_id=ref.sha256,
        source=source,
        extraction_date=date(2026, 1, 5),
        encrypted=ref,
        plaintext=ref,
    )


def use_case(blobs: FileSystemBlobStore, reference_year: int | None = 2026) -> TransformFile:
    return TransformFile(
        BySource(DiamantTransform(), FinessTransform()), FixedReferential(), blobs, reference_year
    )


async def test_a_diamant_file_becomes_rows_and_a_quality_report(blobs: FileSystemBlobStore) -> None:
    text = "\r\n".join(
        [
            ";".join(labels("ANN_RPU")),
            f"{ET1};{EJ1};2024;31250",
            f"{ET2};{EJ1};;12",  # blank year: reported, skipped
            f"750000010;{EJ1};2024;5",  # unknown FINESS: reported
            f"{ET2};{EJ1};2019;7",  # outside the window
            "",
        ]
    )
    event = decrypted(blobs, "ANN_RPU_2026_01_05.CSV", text, "ANN_RPU")
    outcome = await use_case(blobs)(event)
    assert isinstance(outcome, FileTransformed)
    assert outcome.row_count == 1 and outcome.years == (2021, 2025)
    [table] = outcome.tables
    assert (table.table, table.rows, table.mode) == ("activite_sanitaire", 1, "upsert")
    assert table.blob.media_type == "application/vnd.apache.arrow.file"
    assert pl.read_ipc(blobs.path(table.blob)).to_dicts() == [
        {"annee": 2024, "numero_finess_etablissement_territorial": ET1, "nombre_passages_urgences": 31250.0}
    ]
    report = outcome.quality_report
    assert report["reference_year"] == 2026
    assert report["rows_read"] == 4 and report["rows_kept"] == 1
    assert report["rejected_by_reason"] == {"annee_vide": 1, "finess_inconnu": 1, "hors_fenetre": 1}
    assert report["unknown_finess"] == {"rows": 1, "count": 1, "numbers": ["750000010"], "truncated": False}
    problems = report["problems"]
    assert isinstance(problems, list)
    # Messages name the file as it arrived, not the blob.
    assert problems[0] == "ANN_RPU_2026_01_05.CSV, ligne 3 : année vide [annee_vide]"
    json.dumps(report)  # travels in the event and lands in loaded_file.quality_report


async def test_the_reference_year_defaults_to_the_current_year(blobs: FileSystemBlobStore) -> None:
    text = ";".join(labels("ANN_RPU")) + "\n"
    outcome = await use_case(blobs, None)(decrypted(blobs, "ANN_RPU_2026_01_05.CSV", text, "ANN_RPU"))
    assert isinstance(outcome, FileTransformed)
    assert outcome.quality_report["reference_year"] == date.today().year
    assert outcome.quality_report["window"] == [date.today().year - 5, date.today().year - 1]


async def test_a_header_missing_labels_is_rejected_naming_them(blobs: FileSystemBlobStore) -> None:
    event = decrypted(blobs, "MEN_PMSI_MENCUMU_2026_01_05.CSV", "Finess;Année;Mois\n", "MEN_PMSI_MENCUMU")
    outcome = await use_case(blobs)(event)
    assert isinstance(outcome, FileRejected)
    assert outcome.reason.startswith(
        "MEN_PMSI_MENCUMU_2026_01_05.CSV : fichier refusé, en-tête MEN_PMSI_MENCUMU"
    )
    assert (
        "« DMS mensuel MCO Médecine »" in outcome.reason
        or "« Nombre de séjours mensuels Médecine »" in outcome.reason
    )
    assert outcome.blob == event.plaintext


@pytest.mark.parametrize("source", MEDICO_SOCIAL)
async def test_medico_social_sources_are_transformed_into_their_source_tables(
    blobs: FileSystemBlobStore, source: str
) -> None:
    name = f"{source}_2026_01_05.CSV"
    outcome = await use_case(blobs)(decrypted(blobs, name, ";".join(labels(source)) + "\n", source))
    assert isinstance(outcome, FileTransformed)
    assert outcome.row_count == 0 and outcome.quality_report["source"] == source
    assert outcome.tables and all(t.table.startswith("diamant_") for t in outcome.tables)


async def test_a_medico_social_header_missing_labels_is_rejected_naming_them(
    blobs: FileSystemBlobStore,
) -> None:
    name = "ANN_PER_ERRD_EPRD_2026_01_05.CSV"
    outcome = await use_case(blobs)(decrypted(blobs, name, "Finess;Année\n", "ANN_PER_ERRD_EPRD"))
    assert isinstance(outcome, FileRejected)
    assert outcome.reason.endswith("1 libellé(s) attendu(s) absent(s) : « Id Dépôt »")


async def test_a_finess_et_file_announces_the_ejs_of_its_ets_before_them(
    blobs: FileSystemBlobStore, tmp_path: Path
) -> None:
    from relais_synthetic.finess import generate_referential, write_etablissements_xml_gz

    referential = generate_referential(7, 3)
    ets = tmp_path / "finess_cs1400102_stock_20260105-0400.xml.gz"
    write_etablissements_xml_gz(referential, ets)
    ref = blobs.put_file(ets)
    event = FileDecrypted(
        source_system=SourceSystem.FINESS,
        file_name=ets.name,
        file_id=ref.sha256,
        source="FINESS_FLUX_ET",
        extraction_date=date(2026, 1, 5),
        encrypted=ref,
        plaintext=ref,
    )
    outcome = await use_case(blobs)(event)
    assert isinstance(outcome, FileTransformed) and outcome.years is None
    assert [(t.table, t.mode) for t in outcome.tables] == [
        ("entite_juridique", "ensure"),
        ("etablissement_territorial", "upsert"),
    ]
    announced = pl.read_ipc(blobs.path(outcome.tables[0].blob))
    sites = pl.read_ipc(blobs.path(outcome.tables[1].blob))
    assert sites.height == len(referential.etablissements)
    assert set(announced["numero_finess_entite_juridique"]) == set(sites["numero_finess_entite_juridique"])
    assert announced["numero_finess_entite_juridique"].is_unique().all()


def test_every_source_has_a_definition() -> None:
    from relais_diamant.definitions import definition

    assert all(definition(s) is not None for s in DiamantSource)


def test_files_go_to_the_partitions_in_turn() -> None:
    next_partition = InTurn(3)
    assert [next_partition() for _ in range(7)] == [0, 1, 2, 0, 1, 2, 0]
