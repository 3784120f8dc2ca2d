"""Outgoing email over SMTP, or into INSTANCE_PATH/mail when no SMTP server is configured."""

from __future__ import annotations

import logging
import os
import secrets
import smtplib
import ssl
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from pymongo.errors import PyMongoError

logger = logging.getLogger(__name__)

EXTENSION_KEY = "mailer"
SMTP_TIMEOUT_SECONDS = 10


def build_message(to: str, subject: str, body: str) -> EmailMessage:
    """Return a plain-text message from MAIL_FROM."""
    message = EmailMessage()
    message["From"] = current_app.config["MAIL_FROM"]
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    return message


def send(message: EmailMessage) -> None:
    """Send now: over SMTP if SMTP_HOST is set, else write an .eml file for the developer."""
    config = current_app.config
    if not config["SMTP_HOST"]:
        folder = Path(config["INSTANCE_PATH"]) / "mail"
        folder.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        path = folder / f"{stamp}-{secrets.token_hex(4)}.eml"
        # Written under a name no reader globs for, then renamed: whoever watches the folder
        # for *.eml (tests, the one-liner in docs/clients.md) never reads half a message.
        temporary = folder / f".{path.name}.tmp"
        temporary.write_bytes(bytes(message))
        os.replace(temporary, path)
        logger.info("no SMTP_HOST: email %r written to %s", message["Subject"], path)
        return
    with smtplib.SMTP(
        config["SMTP_HOST"], config["SMTP_PORT"], timeout=SMTP_TIMEOUT_SECONDS
    ) as smtp:
        if config["SMTP_STARTTLS"]:
            smtp.starttls(context=ssl.create_default_context())
        if config["SMTP_USER"]:
            smtp.login(config["SMTP_USER"], config["SMTP_PASSWORD"] or "")
        smtp.send_message(message)
    logger.info("email %r sent", message["Subject"])


def run_in_background(job: Callable[..., Any], *args: Any) -> None:
    """Run a job (which may send mail) after the response, in an app context of its own.

    The request answers at once and in the same time whatever the job does, so a response's
    timing cannot tell whether an email address has an account.
    """
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    executor = app.extensions.get(EXTENSION_KEY)
    if executor is None:
        executor = app.extensions.setdefault(
            EXTENSION_KEY, ThreadPoolExecutor(max_workers=2, thread_name_prefix="mail")
        )
    executor.submit(_run, app, job, *args)


def _run(app: Flask, job: Callable[..., Any], *args: Any) -> None:
    """Run one background job, logging (never raising) what goes wrong."""
    with app.app_context():
        try:
            job(*args)
        except (OSError, smtplib.SMTPException, PyMongoError):
            logger.exception("background email job failed")
