"""The absence alert as an event on Kafka (rpu.absence.alerted.v1), keyed by FINESS.

A `Notifier` channel ("kafka") like mail and webhook: the alert ledger publishes each alert once on it and retries
a failed publication at the next check, so the event is as reliable as the mail.
"""

from __future__ import annotations

from faststream.kafka import KafkaBroker

from relais_contracts import RpuAbsenceAlerted, Topic
from relais_platform.settings import KafkaSettings
from relais_rpu_concentrator.outbound.absence import AbsenceAlert


def alert_event(alert: AbsenceAlert) -> RpuAbsenceAlerted:
    last = alert.last_file
    return RpuAbsenceAlerted(
        finess=alert.finess,
        day=alert.day,
        reason=alert.reason.value,
        message=alert.message,
        establishment_name=alert.establishment_name,
        last_file=last.name if last else None,
        last_file_received_at=last.received_at if last else None,
        missing_days=list(alert.missing_days),
        day_count=alert.day_count,
        threshold=alert.threshold,
    )


class KafkaAlertEvents:
    channel = "kafka"

    def __init__(self, broker: KafkaBroker, kafka: KafkaSettings) -> None:
        self._broker = broker
        self._topic = kafka.topic(Topic.RPU_ABSENCE_ALERTED)

    async def notify(self, alert: AbsenceAlert) -> None:
        # Published inside the notifier's span, itself in the trace of the establishment's last file: the
        # telemetry middleware carries that trace to consumers.
        await self._broker.publish(alert_event(alert), self._topic, key=alert.finess.encode())
