"""Sending report files by e-mail (SMTP with STARTTLS or plain, from settings). No secret is ever logged."""

from __future__ import annotations

import mimetypes
import smtplib
from collections.abc import Sequence
from email.message import EmailMessage
from pathlib import Path

from listing_sync.config.settings import Settings


class MailFailed(RuntimeError):
    """The SMTP server could not be reached or refused the message (the message says which and why)."""


def recipients(settings: Settings) -> list[str]:
    return [a.strip() for a in settings.report_recipients.split(",") if a.strip()]


def mail_configured(settings: Settings) -> bool:
    return bool(settings.smtp_host and recipients(settings))


def send_files(settings: Settings, subject: str, body: str, files: Sequence[Path]) -> list[str]:
    """E-mail ``files`` as attachments to settings ``report_recipients``; returns the addresses."""
    to = recipients(settings)
    message = EmailMessage()
    message["Subject"], message["From"], message["To"] = subject, settings.smtp_sender, ", ".join(to)
    message.set_content(body)
    for path in files:
        kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        main, _, sub = kind.partition("/")
        message.add_attachment(path.read_bytes(), maintype=main, subtype=sub, filename=path.name)
    host, port = settings.smtp_host or "", settings.smtp_port
    try:
        with smtplib.SMTP(host, port, timeout=30) as smtp:
            if settings.smtp_starttls:
                smtp.starttls()
            if settings.smtp_user:
                password = settings.smtp_password.get_secret_value() if settings.smtp_password else ""
                smtp.login(settings.smtp_user, password)
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        raise MailFailed(f"e-mail to {', '.join(to)} via {host}:{port} failed: {type(exc).__name__}: {exc}") from None
    return to
