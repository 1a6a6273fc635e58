import pytest

from relais_finess import InvalidFiness, check, compute_key, from_snds, to_snds

PUBLISHED = [
    "750712184",
    "690781810",
    "130786049",
    "590780193",
    "970408589",
    "2A0000014",
    "2B0000020",
    "370000481",
]


@pytest.mark.parametrize("number", PUBLISHED)
def test_published_numbers_are_valid(number: str) -> None:
    assert check(number).valid, check(number).reason


def test_lost_leading_zero_is_detected_by_the_key() -> None:
    result = check("70000481")
    assert not result.valid and "9" in (result.reason or "")


@pytest.mark.parametrize("number", ["750712185", "750712180", "2A0000015"])
def test_a_wrong_key_is_named(number: str) -> None:
    result = check(number)
    assert not result.valid
    assert "clé de contrôle" in (result.reason or "")


def test_letters_only_for_corsica() -> None:
    assert "Corse" in (check("3A0000014").reason or "")


def test_snds_round_trip_repads_leading_zeros() -> None:
    assert to_snds("010000024"[:8] + compute_key("01000002")) == "01000002"
    assert from_snds("1000002") == "01000002" + compute_key("01000002")
    with pytest.raises(InvalidFiness):
        from_snds("00000000")
