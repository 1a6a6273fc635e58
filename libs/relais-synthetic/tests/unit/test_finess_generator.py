import random
from collections import Counter
from pathlib import Path

from relais_finess import is_valid, territory_of
from relais_finess.flux import read_etablissements_xml
from relais_finess.opendata import read_etablissements_csv
from relais_finess.report import ParseReport
from relais_synthetic.finess import (
    generate_referential,
    random_finess,
    write_etablissements_csv,
    write_etablissements_xml_gz,
)


def test_the_same_seed_gives_the_same_referential() -> None:
    assert generate_referential(seed=3, entites=50) == generate_referential(seed=3, entites=50)
    assert generate_referential(seed=3, entites=50) != generate_referential(seed=4, entites=50)


def test_numbers_are_valid_distinct_and_name_the_territory_of_the_structure() -> None:
    referential = generate_referential(seed=11, entites=400)
    numbers = [ej.numero for ej in referential.entites_juridiques] + [
        et.numero for et in referential.etablissements
    ]

    assert all(is_valid(number) for number in numbers)
    assert len(set(numbers)) == len(numbers)
    for structure in (*referential.entites_juridiques, *referential.etablissements):
        assert territory_of(structure.numero).code == structure.departement
    territories = {et.departement for et in referential.etablissements}
    assert {"2A", "2B", "971", "974", "976", "986"} <= territories


def test_each_ej_runs_one_to_k_ets_of_realistic_categories() -> None:
    referential = generate_referential(seed=5, entites=300, max_etablissements_par_ej=4)
    per_ej = Counter(et.numero_ej for et in referential.etablissements)

    assert set(per_ej) == {ej.numero for ej in referential.entites_juridiques}
    assert min(per_ej.values()) >= 1 and max(per_ej.values()) == 4
    categories = {et.categorie for et in referential.etablissements}
    assert {"101", "355", "365", "500", "183", "246"} <= categories
    assert all(ej.statut_juridique and ej.libelle_statut_juridique for ej in referential.entites_juridiques)


def test_some_structures_are_closed_or_caduc_and_no_et_outlives_its_ej() -> None:
    referential = generate_referential(seed=9, entites=1000)
    closing = {ej.numero: ej.date_fermeture for ej in referential.entites_juridiques}
    ets = referential.etablissements

    assert any(et.caduc for et in ets) and any(et.date_fermeture for et in ets)
    assert not any(et.caduc and et.date_fermeture for et in ets)
    for et in ets:
        ej_closed = closing[et.numero_ej]
        if ej_closed is not None:
            assert et.date_fermeture is not None and et.date_fermeture <= ej_closed
        if et.date_fermeture is not None and et.date_ouverture is not None:
            assert et.date_ouverture < et.date_fermeture


def test_a_national_size_referential_round_trips_through_both_formats(tmp_path: Path) -> None:
    # ~45,000 ETs, the size of the real referential: generation, writing and reading must stay in seconds.
    referential = generate_referential(seed=2024, entites=15_000)
    assert 40_000 <= len(referential.etablissements) <= 50_000

    flux = tmp_path / "finess_cs1400102_stock_20241231-0336.xml.gz"
    write_etablissements_xml_gz(referential, flux)
    report = ParseReport(flux.name)
    assert sum(1 for _ in read_etablissements_xml(flux, report)) == len(referential.etablissements)
    assert report.ok

    extract = tmp_path / "etalab-cs1100507-stock-20241231-0342.csv"
    write_etablissements_csv(referential, extract, encoding="cp1252")
    report = ParseReport(extract.name)
    assert sum(1 for _ in read_etablissements_csv(extract, report)) == report.records_accepted > 40_000 * 0.8
    assert report.ok and report.encoding == "cp1252"


def test_random_numbers_are_valid() -> None:
    rng = random.Random(7)
    assert all(is_valid(random_finess(rng)) for _ in range(500))
