"""Gateways behind one interface, chosen by name from a registry.

A backend's `send(message, text)` delivers `text` (the message body, with any secret filled in)
to `message.recipient` and returns the gateway's id for it. It raises when the gateway did not
take the message, so that RQ retries the job; once the gateway has taken it, it must not raise.
"""

import base64
import json
import logging
import re
import smtplib
import ssl
import urllib.error
import urllib.request
import uuid
from email.message import EmailMessage
from email.utils import make_msgid

from flask import current_app

log = logging.getLogger(__name__)


class GatewayError(RuntimeError):
    """The gateway refused or failed to take the message; the job is retried."""


class LogBackend:
    """Development: writes the message to the log; the message row is what administrators read."""

    def send(self, message, text: str) -> str:
        log.info("%s to %s: %s", message.channel, message.recipient, message.body)
        return f"log-{uuid.uuid4().hex[:12]}"


class MemoryBackend:
    """Tests: records what would have been sent."""

    sent: list = []

    def send(self, message, text: str) -> str:
        MemoryBackend.sent.append((message.channel, message.recipient, text))
        return f"mem-{len(MemoryBackend.sent)}"


PLACEHOLDER = re.compile(r"\{(\w+)\}")


class HttpSmsBackend:
    """An SMS gateway taking a JSON POST; URL, credentials and payload shape come from config.

    NOTIFY_SMS_HTTP_PAYLOAD is a JSON document whose strings may hold {recipient}, {body},
    {idempotency_key}, {message_id} and {template}; the key is also sent as an Idempotency-Key
    header, so a gateway that honours it drops a resend after a lost answer.
    """

    def send(self, message, text: str) -> str:
        cfg = current_app.config
        values = {
            "recipient": message.recipient,
            "body": text,
            "idempotency_key": message.idempotency_key,
            "message_id": str(message.id),
            "template": message.template,
        }
        payload = fill_payload(json.loads(cfg["NOTIFY_SMS_HTTP_PAYLOAD"]), values)
        request = urllib.request.Request(
            cfg["NOTIFY_SMS_HTTP_URL"],
            method="POST",
            data=json.dumps(payload, ensure_ascii=False).encode("utf-8"),
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "Accept": "application/json",
                "Idempotency-Key": message.idempotency_key,
                **auth_header(cfg),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=cfg["NOTIFY_SMS_HTTP_TIMEOUT"]) as response:
                status, answer = response.status, response.read()
        except urllib.error.HTTPError as exc:
            raise GatewayError(f"SMS gateway answered HTTP {exc.code}: {_excerpt(exc.read())}") from None
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            raise GatewayError(f"SMS gateway unreachable: {exc}") from None
        if not 200 <= status < 300:
            raise GatewayError(f"SMS gateway answered HTTP {status}: {_excerpt(answer)}")
        # Taken: from here on nothing may raise, or the retry would send the message again.
        gateway_id = dig(answer, cfg["NOTIFY_SMS_HTTP_ID_PATH"])
        if not gateway_id:
            log.warning(
                "SMS gateway took message %s but gave no id at %r: %s",
                message.id,
                cfg["NOTIFY_SMS_HTTP_ID_PATH"],
                _excerpt(answer),
            )
        return gateway_id


def fill_payload(node, values: dict):
    """The payload template with {placeholders} in its strings replaced; other values kept."""
    if isinstance(node, str):
        return PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), node)
    if isinstance(node, dict):
        return {k: fill_payload(v, values) for k, v in node.items()}
    if isinstance(node, list):
        return [fill_payload(v, values) for v in node]
    return node


def auth_header(cfg) -> dict:
    if cfg.get("NOTIFY_SMS_HTTP_TOKEN"):
        return {"Authorization": f"Bearer {cfg['NOTIFY_SMS_HTTP_TOKEN']}"}
    if cfg.get("NOTIFY_SMS_HTTP_USER"):
        pair = f"{cfg['NOTIFY_SMS_HTTP_USER']}:{cfg.get('NOTIFY_SMS_HTTP_PASSWORD', '')}"
        return {"Authorization": "Basic " + base64.b64encode(pair.encode("utf-8")).decode("ascii")}
    return {}


def dig(answer: bytes, path: str) -> str:
    """The value at a dotted path (data.msgid) of a JSON answer, as text; '' if not there."""
    try:
        node = json.loads(answer.decode("utf-8"))
        for part in path.split("."):
            node = node[int(part)] if isinstance(node, list) else node[part]
    except (ValueError, KeyError, IndexError, TypeError, AttributeError):
        return ""
    return "" if node is None else str(node)[:200]


def _excerpt(raw: bytes) -> str:
    return raw[:300].decode("utf-8", "replace")


class SmtpBackend:
    """Mail over SMTP (MAIL_SERVER, MAIL_PORT, MAIL_USERNAME/PASSWORD, MAIL_USE_TLS or MAIL_USE_SSL).

    The subject is a first line written "主题：…" (or "Subject: …"), else the text's first line.
    """

    def send(self, message, text: str) -> str:
        cfg = current_app.config
        subject, body = split_subject(text)
        mail = EmailMessage()
        mail["From"] = cfg["MAIL_FROM"]
        mail["To"] = message.recipient
        mail["Subject"] = subject
        domain = cfg["MAIL_FROM"].rpartition("@")[2] or "localhost"
        mail["Message-ID"] = make_msgid(idstring=f"message-{message.id}", domain=domain)
        mail["X-Idempotency-Key"] = message.idempotency_key
        mail.set_content(body, charset="utf-8")
        smtp_class = smtplib.SMTP_SSL if cfg["MAIL_USE_SSL"] else smtplib.SMTP
        try:
            with smtp_class(cfg["MAIL_SERVER"], cfg["MAIL_PORT"], timeout=cfg["MAIL_TIMEOUT"]) as smtp:
                if cfg["MAIL_USE_TLS"] and not cfg["MAIL_USE_SSL"]:
                    smtp.starttls(context=ssl.create_default_context())
                if cfg["MAIL_USERNAME"]:
                    smtp.login(cfg["MAIL_USERNAME"], cfg["MAIL_PASSWORD"])
                smtp.send_message(mail)
        except (smtplib.SMTPException, OSError) as exc:
            raise GatewayError(f"mail server: {exc}") from None
        return mail["Message-ID"]


SUBJECT_PREFIXES = ("主题：", "主题:", "Subject:")


def split_subject(text: str, limit: int = 60) -> tuple[str, str]:
    """(subject, body) of a mail template's text."""
    first, _, rest = text.partition("\n")
    for prefix in SUBJECT_PREFIXES:
        if first.startswith(prefix):
            return first[len(prefix) :].strip(), rest.lstrip("\n")
    first = first.strip()
    return (first if len(first) <= limit else first[: limit - 1] + "…"), text


BACKENDS = {"log": LogBackend, "memory": MemoryBackend, "http": HttpSmsBackend, "smtp": SmtpBackend}


def backend_for(channel: str):
    """The configured backend for 'sms' or 'mail' (NOTIFY_SMS_BACKEND / NOTIFY_MAIL_BACKEND)."""
    name = current_app.config.get(f"NOTIFY_{channel.upper()}_BACKEND", "log")
    return BACKENDS[name]()
