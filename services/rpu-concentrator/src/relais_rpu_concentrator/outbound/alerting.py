"""The same-day absence check: assess every active establishment, record one alert per (FINESS, day), and notify
each channel of the alerts it has not carried yet.

Running the check again the same day (every hour, or after a restart) records nothing new and only retries the
notifications that failed; an alert is never sent twice on a channel that already took it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from opentelemetry import context as otel_context
from opentelemetry.trace import Link, Tracer

from relais_rpu_concentrator.outbound.absence import AbsenceAlert, AbsenceRule, assess_absences
from relais_rpu_concentrator.outbound.ports import ActiveEstablishments, AlertLedger, DailyCounts, Notifier
from relais_rpu_concentrator.outbound.tracing import context_of

log = logging.getLogger(__name__)


@dataclass
class CheckReport:
    day: date
    assessed: int = 0
    alerts: list[AbsenceAlert] = field(default_factory=list)  # all alerts of the day, new or not
    new: list[AbsenceAlert] = field(default_factory=list)
    notified: dict[str, list[str]] = field(default_factory=dict)  # channel → FINESS notified by this run


def _attributes(alert: AbsenceAlert) -> dict[str, str | int]:
    attributes: dict[str, str | int] = {
        "relais.finess": alert.finess,
        "relais.day": alert.day.isoformat(),
        "relais.alert_reason": alert.reason.value,
        "relais.missing_days": len(alert.missing_days),
    }
    if alert.last_file is not None:
        attributes["relais.last_file"] = alert.last_file.name
    return attributes


def _alert_context(alert: AbsenceAlert) -> otel_context.Context | None:
    """The alert continues the trace of the establishment's last file, when that trace is known."""
    return context_of(alert.last_file.trace_parent) if alert.last_file is not None else None


class TracedNotifier:
    """A notifier whose every sending is a span in the trace of the file the alert concerns."""

    def __init__(self, inner: Notifier, tracer: Tracer, check: Link | None = None) -> None:
        self.channel = inner.channel
        self._inner = inner
        self._tracer = tracer
        self._links = [check] if check is not None else []

    async def notify(self, alert: AbsenceAlert) -> None:
        with self._tracer.start_as_current_span(
            f"rpu.alert.notify {self.channel}",
            context=_alert_context(alert),
            attributes={**_attributes(alert), "relais.channel": self.channel},
            links=self._links,
        ):
            await self._inner.notify(alert)


class AbsenceCheck:
    def __init__(
        self,
        *,
        establishments: ActiveEstablishments,
        counts: DailyCounts,
        ledger: AlertLedger,
        notifiers: Sequence[Notifier],
        tracer: Tracer,
        rule: AbsenceRule | None = None,
    ) -> None:
        self._establishments = establishments
        self._counts = counts
        self._ledger = ledger
        self._notifiers = notifiers
        self._tracer = tracer
        self._rule = rule or AbsenceRule()

    async def run(self, day: date) -> CheckReport:
        report = CheckReport(day)
        with self._tracer.start_as_current_span(
            "rpu.absence_check", context=otel_context.Context(), attributes={"relais.day": day.isoformat()}
        ) as check:
            active = await self._establishments.active()
            first, last = self._rule.window(day)
            activity = await self._counts.activity([e.finess for e in active], first, last)
            report.assessed = len(active)
            report.alerts = assess_absences(day, active, activity, self._rule)
            report.new = await self._ledger.record(report.alerts)
            link = Link(check.get_span_context())
            for alert in report.new:
                # The alert itself, once, in the trace of the establishment's last file.
                with self._tracer.start_as_current_span(
                    f"rpu.absence_alert {alert.finess}",
                    context=_alert_context(alert),
                    attributes=_attributes(alert),
                    links=[link],
                ):
                    log.warning("absence alert", extra={"finess": alert.finess, "day": day.isoformat()})
            for notifier in self._notifiers:
                sent = await self._ledger.notify_pending(
                    day, notifier.channel, TracedNotifier(notifier, self._tracer, link)
                )
                report.notified[notifier.channel] = [a.finess for a in sent]
            check.set_attribute("relais.establishments", report.assessed)
            check.set_attribute("relais.alerts", len(report.alerts))
            check.set_attribute("relais.new_alerts", len(report.new))
        return report
