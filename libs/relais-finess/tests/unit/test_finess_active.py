from datetime import date

from relais_finess import EntiteJuridique, EtablissementTerritorial, is_active


def _et(**changes: object) -> EtablissementTerritorial:
    fields: dict[str, object] = {
        "numero": "010000040",
        "numero_ej": "010008407",
        "raison_sociale": "CH NANTUA",
        "categorie": "355",
        "date_ouverture": date(1990, 1, 1),
    }
    fields.update(changes)
    return EtablissementTerritorial(**fields)  # type: ignore[arg-type]


def test_an_open_et_is_active_from_its_opening_day() -> None:
    et = _et()
    assert not is_active(et, date(1989, 12, 31))
    assert is_active(et, date(1990, 1, 1))
    assert is_active(et, date(2030, 1, 1))


def test_a_closed_et_is_active_until_the_day_before_its_closing_date() -> None:
    et = _et(date_fermeture=date(2020, 6, 30))
    assert is_active(et, date(2020, 6, 29))
    assert not is_active(et, date(2020, 6, 30))


def test_a_caduc_et_is_never_active() -> None:
    et = _et(caduc=True)
    assert not is_active(et, date(2000, 1, 1))


def test_an_et_without_dates_is_always_active() -> None:
    assert is_active(_et(date_ouverture=None), date(1900, 1, 1))


def test_an_ej_is_active_until_closed() -> None:
    ej = EntiteJuridique(
        numero="010008407", raison_sociale="CH DU HAUT BUGEY", date_fermeture=date(2022, 1, 1)
    )
    assert is_active(ej, date(2021, 12, 31))
    assert not is_active(ej, date(2022, 1, 1))
    assert is_active(EntiteJuridique(numero="010008407", raison_sociale="CH"), date(2050, 1, 1))
