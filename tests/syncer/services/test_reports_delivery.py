"""Scheduled delivery: the weekly and monthly reports written to the report folder (once) and e-mailed
through a local SMTP server (aiosmtpd) when SMTP settings are given; the huey tasks around it."""

from __future__ import annotations

import email
import socket
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from listing_sync.config.settings import Settings
from listing_sync.syncer import db
from listing_sync.syncer.context import Context
from listing_sync.syncer.models import Channel
from listing_sync.syncer.services import reports, system
from openpyxl import load_workbook

from tests.syncer.test_reports import add_order


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's handler name
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


@pytest.fixture
def smtp():
    inbox = Inbox()
    with socket.socket() as probe:  # a free port (aiosmtpd's own start-up check cannot use port 0)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, controller.port
    finally:
        controller.stop()


def make_context(db_url: str, tmp_path: Path, **settings) -> Context:
    context = Context(
        settings=Settings(
            _env_file=None,
            data_dir=tmp_path / "data",
            database_url=db_url,
            report_folder=tmp_path / "reports",
            report_timezone="Asia/Shanghai",
            **settings,
        )
    )
    system.upgrade_database(context)
    with db.unit_of_work(context.db_url) as s:
        channel = Channel(name="tb", kind="taobao", currency="CNY")
        s.add(channel)
        s.flush()
        # Monday 2026-11-23 08:00 in Shanghai (00:00 UTC): last week's, seen from Wednesday 2026-12-02
        add_order(s, channel, "1", "2026-11-23 00:00", "paid", "CNY", [("X", None, 2, "50.00")], "5.00", "CN")
        # Sunday 2026-11-22 23:30 in Shanghai: the week before
        add_order(s, channel, "2", "2026-11-22 15:30", "paid", "CNY", [("X", None, 1, "70.00")], None, "CN")
    return context


def test_weekly_report_is_written_once_and_mailed(db_url: str, tmp_path: Path, smtp) -> None:
    inbox, port = smtp
    context = make_context(
        db_url,
        tmp_path,
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_starttls=False,
        smtp_sender="reports@example.com",
        report_recipients="boss@example.com, buyer@example.com",
    )
    delivered = reports.deliver_scheduled_report(context, "weekly", today=date(2026, 12, 2))
    assert delivered is not None and delivered.fresh
    assert delivered.path == tmp_path / "reports" / "sales-2026-W48.xlsx"
    assert delivered.emailed == ["boss@example.com", "buyer@example.com"]
    book = load_workbook(delivered.path)
    assert book.sheetnames[0] == "Summary"
    total = book["total"]
    head = [c.value for c in total[1]]
    all_row = next(r for r in total.iter_rows(min_row=2) if r[1].value == "ALL")
    assert Decimal(str(all_row[head.index("Net revenue (CNY)")].value)) == Decimal("100.00")  # order 1 only
    ((sender, to, content),) = inbox.messages
    assert sender == "reports@example.com" and to == ["boss@example.com", "buyer@example.com"]
    message = email.message_from_bytes(content)
    assert "weekly" in message["Subject"] and "2026-W48" in message["Subject"]
    (attachment,) = [p for p in message.walk() if p.get_filename()]
    assert attachment.get_filename() == "sales-2026-W48.xlsx"
    assert attachment.get_payload(decode=True) == delivered.path.read_bytes()

    again = reports.deliver_scheduled_report(context, "weekly", today=date(2026, 12, 3))
    assert again is not None and not again.fresh and len(inbox.messages) == 1  # already delivered

    monthly = reports.deliver_scheduled_report(context, "monthly", today=date(2026, 12, 2))
    assert monthly is not None and monthly.path.name == "sales-2026-11.xlsx" and len(inbox.messages) == 2


def test_without_smtp_settings_the_report_is_only_written(db_url: str, tmp_path: Path) -> None:
    context = make_context(db_url, tmp_path)
    delivered = reports.deliver_scheduled_report(context, "monthly", today=date(2026, 12, 2))
    assert delivered is not None and delivered.path.exists() and delivered.emailed == []


def test_a_refused_mail_names_the_server_and_keeps_the_file(db_url: str, tmp_path: Path) -> None:
    context = make_context(
        db_url, tmp_path, smtp_host="127.0.0.1", smtp_port=1, smtp_starttls=False, report_recipients="a@example.com"
    )
    with pytest.raises(reports.ReportFailed, match="127.0.0.1:1") as failed:
        reports.deliver_scheduled_report(context, "weekly", today=date(2026, 12, 2))
    assert "sales-2026-W48.xlsx written" in str(failed.value)
    assert (tmp_path / "reports" / "sales-2026-W48.xlsx").exists()
