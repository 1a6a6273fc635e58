"""Which loads may run at once: only those whose tables do not overlap."""

from relais_loader.adapters.pg_indicators import locks_of


def test_sources_sharing_tables_share_a_lock_and_the_others_do_not() -> None:
    assert locks_of("ANN_RPU") == locks_of("ANN_SAE") == locks_of("MEN_PMSI_ANNUEL")  # activite_sanitaire
    separate = ["ANN_RPU", "MEN_PMSI_MENCUMU", "QUO_SAN_FINANCE", "MEN_HAPI", "ANN_MS_TDP_ET", "ANN_CA_EJ_ET"]
    assert len({tuple(locks_of(source)) for source in separate}) == len(separate)


def test_a_referential_file_takes_every_health_lock_in_one_order() -> None:
    health = {
        lock
        for source in ("ANN_RPU", "MEN_PMSI_MENCUMU", "QUO_SAN_FINANCE", "MEN_HAPI")
        for lock in locks_of(source)
    }
    assert locks_of("FINESS_FLUX_ET") == sorted(health)
    assert not set(locks_of("FINESS_FLUX_ET")) & set(locks_of("ANN_MS_TDP_ET"))
