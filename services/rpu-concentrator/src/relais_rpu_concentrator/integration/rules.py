"""The integration rules, as plain functions: which days a file covers, which of them it may replace, which FINESS
governs, and when a whole file is refused.

Ordering (spec §2, "apply files in EXTRACT order"): each (FINESS, day) remembers the ordering key of the file that
last replaced it. A file replaces exactly the covered days whose owner is older than itself, and no other. The
result is the same as applying every file sorted by EXTRACT, whatever order they arrive in: an older extract
arriving late only fills the days no newer file covers (typically the oldest days of its window) and leaves the
newer file's days alone; when every day it covers belongs to a newer extract, it is recorded as `superseded` and
changes nothing. The key is (EXTRACT, reception time): EXTRACT is the establishment's own clock (local time); a file
whose EXTRACT is missing or unreadable is placed at its reception time (Europe/Paris), and equal EXTRACTs are
settled by the later reception.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from relais_rpu import RpuHeader
from relais_rpu.completeness import covered_days_between

LOCAL_TIME = ZoneInfo("Europe/Paris")
# A monthly catch-up covers 31 days and a yearly one 366; a window wider than this is a typing error in
# DATEDEBUT/DATEFIN that would erase years of the establishment's data.
MAX_WINDOW_DAYS = 400

# RPU_<FINESS>_<yymmdd>.xml (Alsace), O<FINESS>_<ORDRE>_<timestamp>.xml (Île-de-France), or any name in which a
# FINESS-shaped token stands between separators.
_NAME_FINESS = re.compile(r"(?:^|[_\-. ]|^O)([0-9][0-9AB][0-9]{7})(?=[_\-. ]|$)", re.IGNORECASE)


class FileRefused(Exception):
    """The whole file is rejected; the message is for the establishment, in French."""


@dataclass(frozen=True, slots=True, order=True)
class OrderKey:
    """Where a file stands in EXTRACT order; a greater key is a newer file."""

    extract: datetime  # naive, local time
    received_at: datetime  # aware


def order_key(header: RpuHeader, received_at: datetime) -> OrderKey:
    extract = header.extract or received_at.astimezone(LOCAL_TIME).replace(tzinfo=None)
    return OrderKey(extract, received_at)


def covered_days(header: RpuHeader, entree_days: tuple[date, date] | None) -> list[date]:
    """Header window ∪ [first ENTREE day, last ENTREE day], sorted. A half-open header covers its known day."""
    first, last = entree_days if entree_days is not None else (None, None)
    return sorted(covered_days_between(header, first, last))


def check_window(days: list[date], limit: int = MAX_WINDOW_DAYS) -> None:
    if days and (days[-1] - days[0]).days + 1 > limit:
        raise FileRefused(
            f"période couverte trop large : du {days[0]:%d/%m/%Y} au {days[-1]:%d/%m/%Y} "
            f"(plus de {limit} jours) ; vérifiez DATEDEBUT, DATEFIN et les dates d'ENTREE"
        )


def check_establishment(header: RpuHeader, account_finess: str) -> None:
    """The content's FINESS must be the pushing account's: a file replaces passages, so an establishment may only
    replace its own."""
    if header.finess != account_finess:
        raise FileRefused(
            f"le FINESS du fichier ({header.finess}) n'est pas celui du compte qui l'a déposé "
            f"({account_finess}) : chaque établissement transmet ses propres passages sur son propre compte"
        )


def name_finess_warning(file_name: str, header: RpuHeader) -> str | None:
    """A warning (never a rejection: the content governs) when the file name carries another FINESS."""
    match = _NAME_FINESS.search(file_name)
    if match is None or match.group(1).upper() == header.finess:
        return None
    return (
        f"le FINESS du nom de fichier ({match.group(1)}) diffère de celui du contenu ({header.finess}) ; "
        "le contenu fait foi"
    )


def days_to_replace(covered: Iterable[date], newer_owned: Iterable[date]) -> list[date]:
    """The covered days this file may replace: those not owned by a newer extract."""
    taken = set(newer_owned)
    return sorted(day for day in covered if day not in taken)
