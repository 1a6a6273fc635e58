"""Alert mail over SMTP (stdlib smtplib, run in a thread so the event loop never blocks on the mail server)."""

from __future__ import annotations

import asyncio
import smtplib
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from relais_rpu_concentrator.outbound.absence import AbsenceAlert
from relais_rpu_concentrator.outbound.settings import SmtpSettings

FOOTER = "\n\n--\nMessage automatique du concentrateur régional RPU (Relais). Merci de ne pas y répondre.\n"


def alert_mail(alert: AbsenceAlert, sender: str, recipients: list[str]) -> EmailMessage:
    mail = EmailMessage()
    mail["Subject"] = alert.subject
    mail["From"] = sender
    mail["To"] = ", ".join(recipients)
    mail["Date"] = formatdate(localtime=True)
    mail["Message-ID"] = make_msgid(idstring=f"rpu-alert-{alert.finess}-{alert.day:%Y%m%d}")
    mail["X-Relais-Finess"] = alert.finess
    mail.set_content(alert.message + FOOTER, charset="utf-8")
    return mail


class SmtpMail:
    channel = "mail"

    def __init__(self, settings: SmtpSettings) -> None:
        if not settings.recipients:
            raise ValueError("RELAIS_RPU_ALERT_SMTP_RECIPIENTS is empty: no one to mail the alert to")
        self._settings = settings

    async def notify(self, alert: AbsenceAlert) -> None:
        mail = alert_mail(alert, self._settings.sender, self._settings.recipients)
        await asyncio.to_thread(self._send, mail)

    def _send(self, mail: EmailMessage) -> None:
        s = self._settings
        with smtplib.SMTP(s.host, s.port, timeout=s.timeout_s) as smtp:
            if s.starttls:
                smtp.starttls()
            if s.username and s.password is not None:
                smtp.login(s.username, s.password.get_secret_value())
            smtp.send_message(mail)
