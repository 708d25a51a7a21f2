"""Gateways behind one interface, chosen by name from a registry."""
import logging
import uuid

from flask import current_app

log = logging.getLogger(__name__)


class LogBackend:
    """Development: writes the message to the log; the message row is what administrators read."""

    def send(self, message) -> str:
        log.info("%s to %s: %s", message.channel, message.recipient, message.body)
        return f"log-{uuid.uuid4().hex[:12]}"


class MemoryBackend:
    """Tests: records what would have been sent."""

    sent: list = []

    def send(self, message) -> str:
        MemoryBackend.sent.append((message.channel, message.recipient, message.body))
        return f"mem-{len(MemoryBackend.sent)}"


BACKENDS = {"log": LogBackend, "memory": MemoryBackend}


def backend_for(channel: str):
    """The configured backend for 'sms' or 'mail' (NOTIFY_SMS_BACKEND / NOTIFY_MAIL_BACKEND)."""
    name = current_app.config.get(f"NOTIFY_{channel.upper()}_BACKEND", "log")
    return BACKENDS[name]()
