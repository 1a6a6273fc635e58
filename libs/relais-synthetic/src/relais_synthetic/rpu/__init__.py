"""Synthetic RPU data: a region of establishments with emergency departments, the passages of any (FINESS, day),
the files they send (7-day rolling, monthly catch-up) with the real-world quirks, and a hand-written reference
passage for the tests of the checks."""

from relais_synthetic.rpu.examples import COMPLETE_PASSAGE, EXAMPLE_ENTREE
from relais_synthetic.rpu.files import (
    ROLLING_DAYS,
    GeneratedFile,
    files_count,
    monthly_file,
    months_between,
    region_files,
    region_month_files,
    rolling_file,
    rolling_file_name,
    write_days,
    write_monthly_file,
    write_rolling_file,
)
from relais_synthetic.rpu.region import (
    SoftwareProfile,
    SyntheticEstablishment,
    SyntheticRecord,
    SyntheticRegion,
    day_records,
    day_rng,
    synthetic_region,
    with_annual_total,
)

__all__ = [
    "COMPLETE_PASSAGE",
    "EXAMPLE_ENTREE",
    "ROLLING_DAYS",
    "GeneratedFile",
    "SoftwareProfile",
    "SyntheticEstablishment",
    "SyntheticRecord",
    "SyntheticRegion",
    "day_records",
    "day_rng",
    "files_count",
    "monthly_file",
    "months_between",
    "region_files",
    "region_month_files",
    "rolling_file",
    "rolling_file_name",
    "synthetic_region",
    "with_annual_total",
    "write_days",
    "write_monthly_file",
    "write_rolling_file",
]
