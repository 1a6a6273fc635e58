"""The statistics as text tables for ARS staff (French), as `relais rpu stats` prints them."""

from __future__ import annotations

from relais_rpu_concentrator.stats.model import MonthStats

NOT_SENT = "-"


def _n(value: int) -> str:
    return f"{value:,}".replace(",", " ")


def render_month(stats: MonthStats) -> str:
    days = len(stats.days)
    lines = [
        f"Transmissions RPU — {stats.month:%m/%Y}",
        "(fichiers : reçus dans le mois ; RPU : passages de la base régionale pour les jours du mois)",
        "",
        f"{'FINESS':<10} {'fichiers':>8} {'intégrés':>8} {'rejetés':>7} {'périmés':>7} {'RPU':>10} "
        f"{'jours':>7} {'suspects':>8}",
    ]
    for e in stats.establishments:
        lines.append(
            f"{e.finess:<10} {e.files:>8} {e.files_integrated:>8} {e.files_rejected:>7} "
            f"{e.files_superseded:>7} {_n(e.rpu):>10} {f'{len(e.daily)}/{days}':>7} {len(e.suspicious_days()):>8}"
        )
    lines.append(f"{'Total':<10} {stats.files:>8} {'':>8} {'':>7} {'':>7} {_n(stats.rpu):>10}")
    return "\n".join(lines) + "\n"


def render_daily(stats: MonthStats) -> str:
    """One row per establishment, one column per day; `-` a day never transmitted, `!` a suspicious count."""
    header = f"{'FINESS':<10}" + "".join(f"{day.day:>6}" for day in stats.days)
    lines = [
        f"RPU par jour — {stats.month:%m/%Y} ('{NOT_SENT}' : jour non transmis, '!' : jour suspect)",
        header,
    ]
    for e in stats.establishments:
        suspicious = e.suspicious_days()
        cells = []
        for day in stats.days:
            count = e.daily.get(day)
            cell = NOT_SENT if count is None else f"{count}{'!' if day in suspicious else ''}"
            cells.append(f"{cell:>6}")
        lines.append(f"{e.finess:<10}" + "".join(cells))
    return "\n".join(lines) + "\n"
