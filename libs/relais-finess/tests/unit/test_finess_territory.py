import pytest

from relais_finess import InvalidFiness, Territory, compute_key, territory_of


def _finess(first8: str) -> str:
    return first8 + compute_key(first8)


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        ("750712184", Territory("75", "Paris")),
        ("690781810", Territory("69", "Rhône")),
        ("010008407", Territory("01", "Ain")),
        ("2A0000014", Territory("2A", "Corse-du-Sud")),
        ("2B0000020", Territory("2B", "Haute-Corse")),
        ("970408589", Territory("974", "La Réunion")),
        (_finess("97010022"), Territory("971", "Guadeloupe")),
        (_finess("97020001"), Territory("972", "Martinique")),
        (_finess("97030001"), Territory("973", "Guyane")),
        (_finess("97050001"), Territory("975", "Saint-Pierre-et-Miquelon")),
        (_finess("98050001"), Territory("976", "Mayotte")),
        (_finess("98060001"), Territory("986", "Wallis-et-Futuna")),
    ],
)
def test_territory_is_decoded_from_the_prefix(number: str, expected: Territory) -> None:
    assert territory_of(number) == expected


def test_a_territory_is_a_frozen_value() -> None:
    territory = territory_of("750712184")
    with pytest.raises(AttributeError):
        territory.code = "13"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("number", "reason"),
    [
        ("750712185", "clé de contrôle"),
        ("70000481", "8 caractères"),
        ("", "absent"),
        (_finess("97090001"), "outre-mer 97…9 inconnu"),
        (_finess("98070001"), "territoire 9807 inconnu"),
        (_finess("20000001"), "2A ou 2B"),
        (_finess("00000001"), "département 00 inconnu"),
        (_finess("96000001"), "département 96 inconnu"),
    ],
)
def test_an_invalid_number_is_refused_with_its_reason(number: str, reason: str) -> None:
    with pytest.raises(InvalidFiness, match=reason):
        territory_of(number)
