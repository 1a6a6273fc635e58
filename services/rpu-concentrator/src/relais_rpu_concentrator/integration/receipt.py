"""The accusé de réception, in French, as the establishment reads it in its accuses/ folder.

Plain text (UTF-8): it is read by people and by the establishments' software alike, and every line of detail
starts with a stable marker (`REJET`, `ANOMALIE`, `COMPLETUDE`) so that a script can grep it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from relais_rpu import CHECKS, COMPLETENESS_TARGET
from relais_rpu_concentrator.integration.reading import REJECTION_RULE, ReadingSummary
from relais_rpu_concentrator.integration.rules import LOCAL_TIME

MAX_NAME_CHARS = 180


def receipt_name(file_name: str, file_id: str) -> str:
    """Unique per content (a name reused the next day gets its own receipt), stable across redeliveries."""
    return f"{file_name[:MAX_NAME_CHARS]}.{file_id[:12]}.accuse.txt"


@dataclass(frozen=True, slots=True)
class ReceiptFacts:
    file_name: str
    file_id: str
    finess: str
    received_at: datetime
    status: str  # FileStatus value
    error: str | None = None
    summary: ReadingSummary | None = None
    covered: tuple[date, ...] = ()
    replaced: tuple[date, ...] = ()
    warnings: tuple[str, ...] = ()


def _d(day: date) -> str:
    return f"{day:%d/%m/%Y}"


def _days(days: tuple[date, ...]) -> str:
    if not days:
        return "aucun"
    if len(days) == (days[-1] - days[0]).days + 1:
        return f"du {_d(days[0])} au {_d(days[-1])} ({len(days)} jour{'s' if len(days) > 1 else ''})"
    return ", ".join(_d(d) for d in days)


def _percent(rate: float) -> str:
    return f"{rate * 100:.1f} %".replace(".", ",")


_VERDICT = {
    "integrated": "FICHIER INTÉGRÉ",
    "superseded": "FICHIER NON APPLIQUÉ : tous les jours qu'il couvre ont déjà été transmis dans une "
    "extraction plus récente (EXTRACT postérieur)",
    "rejected": "FICHIER REJETÉ",
}


def render_receipt(facts: ReceiptFacts) -> str:
    received = facts.received_at.astimezone(LOCAL_TIME)
    lines = [
        "ACCUSÉ DE RÉCEPTION — FICHIER RPU",
        "",
        f"Fichier           : {facts.file_name}",
        f"Empreinte SHA-256 : {facts.file_id}",
        f"Établissement     : {facts.finess}",
        f"Reçu le           : {received:%d/%m/%Y à %H:%M:%S}",
    ]
    summary = facts.summary
    if summary is not None:
        header = summary.header
        extract = f"{header.extract:%d/%m/%Y %H:%M:%S}" if header.extract else "absente ou illisible"
        debut = _d(header.date_debut) if header.date_debut else "?"
        fin = _d(header.date_fin) if header.date_fin else "?"
        lines += [f"Extraction        : {extract}", f"Période déclarée  : du {debut} au {fin}"]
    lines += ["", f"RÉSULTAT : {_VERDICT[facts.status]}"]
    if facts.error:
        lines.append(f"Motif : {facts.error}")
        if "DOCTYPE" in facts.error:
            lines += [
                "Un fichier RPU ne doit contenir ni DOCTYPE ni déclaration d'entité : ces constructions servent aux",
                "attaques XXE et d'expansion d'entités, le concentrateur refuse donc le fichier sans le lire.",
            ]
        lines += [
            "Aucun passage de ce fichier n'a été intégré. Le fichier est conservé par le concentrateur ;",
            "merci de le corriger et de le renvoyer.",
        ]
    lines += [f"Avertissement : {warning}" for warning in facts.warnings]
    if summary is None or facts.error:
        return "\n".join(lines) + "\n"

    kept = tuple(d for d in facts.covered if d not in set(facts.replaced))
    lines += [
        f"Passages acceptés : {summary.accepted}",
        f"Passages rejetés  : {summary.rejected}",
        f"Jours couverts    : {_days(facts.covered)}",
        f"Jours remplacés   : {_days(facts.replaced)}",
    ]
    if kept:
        lines.append(f"Jours conservés (déjà transmis dans une extraction plus récente) : {_days(kept)}")
    lines += _errors(summary)
    lines += _completeness(summary)
    return "\n".join(lines) + "\n"


def _errors(summary: ReadingSummary) -> list[str]:
    if not summary.errors:
        return ["", "Aucune erreur."]
    lines = ["", "Erreurs (numéro d'enregistrement = rang du PATIENT dans le fichier) :"]
    for error in summary.errors:
        marker = "REJET" if error.rule == REJECTION_RULE else "ANOMALIE"
        lines.append(f"  {marker} enregistrement {error.record_number} : {error.rule} — {error.detail}")
    if summary.errors_omitted:
        lines.append(f"  … et {summary.errors_omitted} autres erreurs, non détaillées ici")
    lines += ["", "Anomalies par règle :"]
    if summary.rejected:
        lines.append(f"  {REJECTION_RULE:<24} {summary.rejected:>7}  enregistrement rejeté (ENTREE absente)")
    for code, count in sorted(summary.failures.items()):
        lines.append(f"  {code:<24} {count:>7}  {CHECKS[code]}")
    return lines


def _completeness(summary: ReadingSummary) -> list[str]:
    target = _percent(COMPLETENESS_TARGET)
    lines = ["", f"Complétude par item (objectif : {target} des passages où l'item est attendu) :"]
    for item in summary.completeness.report():
        rate = item.rate
        if rate is None:
            lines.append(f"  COMPLETUDE {item.item:<14} sans objet (aucun passage concerné)")
            continue
        verdict = "conforme" if item.meets_target else "SOUS L'OBJECTIF"
        lines.append(
            f"  COMPLETUDE {item.item:<14} {_percent(rate):>8}  ({item.filled}/{item.expected})  {verdict}"
        )
    return lines
