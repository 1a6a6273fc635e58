"""RPU (Résumé de Passage aux Urgences) in the OSCOUR envelope: model, streaming parser and writer, FEDORU quality,
ATIH anonymised export."""

from relais_rpu.atih import AtihPassage, AtihWriter, GeoCodeLookup, anonymise, render_atih, write_atih
from relais_rpu.cim10 import is_cim10_shape, normalise_cim10
from relais_rpu.completeness import (
    COMPLETENESS_TARGET,
    CompletenessAccumulator,
    ItemCompleteness,
    covered_days,
)
from relais_rpu.geo import PmsiGeoCodes
from relais_rpu.model import (
    PASSAGE_ITEMS,
    ParsedRecord,
    Passage,
    RejectedRecord,
    RpuFormatError,
    RpuHeader,
    RpuRejected,
)
from relais_rpu.parse import RpuFile, open_rpu
from relais_rpu.quality import CHECKS, age_at_entry, check_passage
from relais_rpu.write import OscourLayout, render_passage, write_oscour

__all__ = [
    "CHECKS",
    "COMPLETENESS_TARGET",
    "PASSAGE_ITEMS",
    "AtihPassage",
    "AtihWriter",
    "CompletenessAccumulator",
    "GeoCodeLookup",
    "ItemCompleteness",
    "OscourLayout",
    "ParsedRecord",
    "Passage",
    "PmsiGeoCodes",
    "RejectedRecord",
    "RpuFile",
    "RpuFormatError",
    "RpuHeader",
    "RpuRejected",
    "age_at_entry",
    "anonymise",
    "check_passage",
    "covered_days",
    "is_cim10_shape",
    "normalise_cim10",
    "open_rpu",
    "render_atih",
    "render_passage",
    "write_atih",
    "write_oscour",
]
