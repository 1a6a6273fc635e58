"""Outbound settings from the environment, the adapters they choose, and the daily schedule."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from relais_rpu_concentrator.outbound.adapters.https_post import HttpsPost
from relais_rpu_concentrator.outbound.adapters.sftp_push import SftpPush
from relais_rpu_concentrator.outbound.schedule import next_run, run_daily
from relais_rpu_concentrator.outbound.settings import OutboundSettings
from relais_rpu_concentrator.outbound.wiring import alert_notifiers, spf_destination

PARIS = ZoneInfo("Europe/Paris")


def test_defaults_push_over_sftp_at_four_and_check_absences_at_two_pm_without_any_notifier() -> None:
    settings = OutboundSettings()

    assert settings.spf.transport == "sftp" and settings.spf.at == time(4, 0)
    assert isinstance(spf_destination(settings.spf), SftpPush)
    assert settings.alert.at == time(14, 0)
    assert alert_notifiers(settings.alert) == []


def test_everything_is_read_from_relais_rpu_spf_and_alert_variables_with_secrets_hidden(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    env = {
        "RELAIS_RPU_SPF_TRANSPORT": "https",
        "RELAIS_RPU_SPF_AT": "05:30",
        "RELAIS_RPU_SPF_MAX_ATTEMPTS": "3",
        "RELAIS_RPU_SPF_BACKOFF_BASE_S": "0.5",
        "RELAIS_RPU_SPF_HTTP_URL": "https://oscour.santepubliquefrance.invalid/depot",
        "RELAIS_RPU_SPF_HTTP_TOKEN": "s3cret-jeton",
        "RELAIS_RPU_SPF_SFTP_HOST": "sftp.santepubliquefrance.invalid",
        "RELAIS_RPU_ALERT_AT": "13:15",
        "RELAIS_RPU_ALERT_SIGMAS": "2.5",
        "RELAIS_RPU_ALERT_SMTP_HOST": "smtp.ars.invalid",
        "RELAIS_RPU_ALERT_SMTP_PORT": "587",
        "RELAIS_RPU_ALERT_SMTP_SENDER": "relais@ars.invalid",
        "RELAIS_RPU_ALERT_SMTP_RECIPIENTS": '["veille@ars.invalid", "astreinte@ars.invalid"]',
        "RELAIS_RPU_ALERT_SMTP_PASSWORD": "mot-de-passe",
        "RELAIS_RPU_ALERT_WEBHOOK_URL": "https://hooks.ars.invalid/rpu",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)

    settings = OutboundSettings()

    assert settings.spf.at == time(5, 30)
    assert settings.spf.retry.max_attempts == 3 and settings.spf.retry.delay(2) == 1.0
    assert settings.spf.sftp.host == "sftp.santepubliquefrance.invalid"
    assert isinstance(spf_destination(settings.spf), HttpsPost)
    assert (
        settings.spf.http.token is not None and settings.spf.http.token.get_secret_value() == "s3cret-jeton"
    )
    assert "s3cret" not in repr(settings) and "mot-de-passe" not in repr(settings)
    assert settings.alert.at == time(13, 15) and settings.alert.rule.sigmas == 2.5
    assert settings.alert.smtp.port == 587
    assert settings.alert.smtp.recipients == ["veille@ars.invalid", "astreinte@ars.invalid"]
    assert [n.channel for n in alert_notifiers(settings.alert)] == ["mail", "webhook"]


def test_the_next_run_is_the_local_hour_even_across_the_daylight_saving_change() -> None:
    before = datetime(2026, 10, 24, 12, 0, tzinfo=UTC)  # 14:00 in Paris (summer time)
    assert next_run(before, time(4, 0), PARIS) == datetime(2026, 10, 25, 4, 0, tzinfo=PARIS)
    assert next_run(before, time(4, 0), PARIS).astimezone(UTC).hour == 3  # winter time from that night
    assert next_run(datetime(2026, 10, 24, 1, 0, tzinfo=UTC), time(4, 0), PARIS).day == 24


async def test_a_restart_after_the_hour_catches_up_today_then_waits_for_tomorrow() -> None:
    clock = [datetime(2026, 11, 25, 15, 0, tzinfo=UTC)]
    days: list[date] = []
    waits: list[float] = []

    async def job(day: date) -> None:
        days.append(day)
        if len(days) == 1:
            raise RuntimeError("a failing run does not stop the schedule")

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 2:
            raise _Stop
        clock[0] = clock[0].fromtimestamp(clock[0].timestamp() + seconds, UTC)

    with pytest.raises(_Stop):
        await run_daily(time(14, 0), PARIS, job, now=lambda: clock[0], sleep=sleep)

    assert days == [date(2026, 11, 25), date(2026, 11, 26)]
    assert waits[0] == 22 * 3600  # 16:00 Paris → 14:00 the next day


class _Stop(Exception):
    pass
