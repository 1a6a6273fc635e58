"""Adapters chosen from the settings, for the composition root (app.py) and the CLI."""

from __future__ import annotations

from relais_rpu_concentrator.outbound.adapters.https_post import HttpsPost
from relais_rpu_concentrator.outbound.adapters.sftp_push import SftpPush
from relais_rpu_concentrator.outbound.adapters.smtp_mail import SmtpMail
from relais_rpu_concentrator.outbound.adapters.webhook import Webhook
from relais_rpu_concentrator.outbound.ports import Destination, Notifier
from relais_rpu_concentrator.outbound.settings import AlertSettings, SpfDeliverySettings


def spf_destination(settings: SpfDeliverySettings) -> Destination:
    if settings.transport == "https":
        return HttpsPost(settings.destination, settings.http)
    return SftpPush(settings.destination, settings.sftp)


def alert_notifiers(settings: AlertSettings) -> list[Notifier]:
    """Mail when recipients are configured, webhook when a URL is; both may be on."""
    notifiers: list[Notifier] = []
    if settings.smtp.recipients:
        notifiers.append(SmtpMail(settings.smtp))
    if settings.webhook.url:
        notifiers.append(Webhook(settings.webhook))
    return notifiers
