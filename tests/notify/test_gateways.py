"""The real gateways against servers on localhost: an SMS gateway that fails twice, a mail server."""

import email
import email.policy
import json
import os
import socketserver
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sqlalchemy as sa

from intake.extensions import db
from intake.redis_conn import MESSAGES, get_queue
from intake.types import utcnow
from notify.models import Message, MessageStatus
from notify.services import queue_message
from notify.tasks import send_message
from tests.notify.conftest import CITIZEN


class Gateway(ThreadingHTTPServer):
    """An SMS gateway that answers 500 to the first `failures` posts, then 200 with an id."""

    def __init__(self, failures: int):
        super().__init__(("127.0.0.1", 0), GatewayHandler)
        self.failures, self.posts, self.delivered, self.delay = failures, [], [], 0.0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/sms/send"


class GatewayHandler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])).decode("utf-8"))
        gateway: Gateway = self.server
        gateway.posts.append({"headers": dict(self.headers), "json": body})
        time.sleep(gateway.delay)
        if len(gateway.posts) <= gateway.failures:
            self._answer(500, {"error": "busy"})
        else:
            gateway.delivered.append(body)
            self._answer(200, {"code": 0, "data": {"msgid": f"gw-{len(gateway.delivered)}"}})

    def _answer(self, status: int, payload: dict):
        raw = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, *args):
        pass


@pytest.fixture
def gateway(app, monkeypatch):
    server = Gateway(failures=2)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    for key, value in {
        "NOTIFY_SMS_BACKEND": "http",
        "NOTIFY_SMS_HTTP_URL": server.url,
        "NOTIFY_SMS_HTTP_TOKEN": "s3cret-token",
        "NOTIFY_SMS_HTTP_PAYLOAD": '{"mobile": "{recipient}", "content": "{body}", '
        '"sign": "十小投诉举报", "extra": {"ref": "{idempotency_key}"}}',
        "NOTIFY_SMS_HTTP_ID_PATH": "data.msgid",
        "NOTIFY_RETRY_INTERVALS": [10, 60, 300],
    }.items():
        monkeypatch.setitem(app.config, key, value)
    yield server
    server.shutdown()
    server.server_close()


def test_a_gateway_failing_twice_gets_the_message_exactly_once(app, gateway, case, event, drain):
    message = queue_message(case, "sms", CITIZEN, "case_accepted", event(), due="2026-12-07")
    db.session.commit()
    message_id, key, tracking_no = message.id, message.idempotency_key, case.tracking_no
    queue = get_queue(app, MESSAGES)

    drain()  # first try: 500, retried after the first backoff interval
    row = db.session.get(Message, message_id)
    assert (row.status, row.attempts) == (MessageStatus.QUEUED, 1) and "HTTP 500" in row.last_error
    retry_at = queue.scheduled_job_registry.get_scheduled_time(f"send-message-{message_id}")
    assert timedelta(seconds=5) < retry_at - utcnow() <= timedelta(seconds=10)

    drain(fast_forward=True)  # second try: 500 again, next backoff
    retry_at = queue.scheduled_job_registry.get_scheduled_time(f"send-message-{message_id}")
    assert timedelta(seconds=55) < retry_at - utcnow() <= timedelta(seconds=60)

    drain(fast_forward=True)  # third try: taken
    db.session.expire_all()
    row = db.session.get(Message, message_id)
    assert (row.status, row.attempts, row.gateway_id) == (MessageStatus.SENT, 3, "gw-1")
    assert row.sent_at is not None and row.last_error == ""
    assert len(gateway.posts) == 3 and len(gateway.delivered) == 1
    delivered = gateway.delivered[0]
    assert delivered["mobile"] == CITIZEN and tracking_no in delivered["content"]
    assert delivered["sign"] == "十小投诉举报" and delivered["extra"] == {"ref": key}
    assert {p["headers"]["Idempotency-Key"] for p in gateway.posts} == {key}
    assert gateway.posts[0]["headers"]["Authorization"] == "Bearer s3cret-token"

    # A rerun of the job, and a second worker that got a copy of it, send nothing.
    assert send_message(message_id) == "skipped"
    queue.enqueue(send_message, message_id, job_id=f"send-message-{message_id}-copy")
    drain()
    assert len(gateway.posts) == 3
    assert db.session.scalar(sa.select(Message.attempts).where(Message.id == message_id)) == 3


@pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="two workers at once need PostgreSQL's row locks (run by .ci/run)",
)
def test_two_workers_at_once_send_once(app, gateway, case, event):
    gateway.failures, gateway.delay = 0, 0.5
    message_id = queue_message(case, "sms", CITIZEN, "case_accepted", event(), due="2026-12-07").id
    db.session.commit()
    results = []

    def worker():
        with app.app_context():
            results.append(send_message(message_id))

    workers = [threading.Thread(target=worker) for _ in range(2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert sorted(results) == ["sent", "skipped"] and len(gateway.posts) == 1
    assert db.session.get(Message, message_id).attempts == 1


def test_a_gateway_that_never_takes_it_leaves_a_failed_row(app, gateway, case, event, drain, monkeypatch):
    gateway.failures = 99
    monkeypatch.setitem(app.config, "NOTIFY_RETRY_INTERVALS", [0])
    message_id = queue_message(case, "sms", CITIZEN, "case_accepted", event(), due="2026-12-07").id
    db.session.commit()
    drain()
    row = db.session.get(Message, message_id)
    assert (row.status, row.attempts) == (MessageStatus.FAILED, 2) and "HTTP 500" in row.last_error
    assert len(gateway.posts) == 2 and not gateway.delivered


def test_basic_auth_and_the_default_payload(app, gateway, case, event, monkeypatch):
    gateway.failures = 0
    for key, value in {
        "NOTIFY_SMS_HTTP_TOKEN": "",
        "NOTIFY_SMS_HTTP_USER": "intake",
        "NOTIFY_SMS_HTTP_PASSWORD": "pw",
        "NOTIFY_SMS_HTTP_ID_PATH": "id",
    }.items():
        monkeypatch.setitem(app.config, key, value)
    monkeypatch.setitem(
        app.config, "NOTIFY_SMS_HTTP_PAYLOAD", '{"to": "{recipient}", "text": "{body}", "ref": "{idempotency_key}"}'
    )
    message_id = queue_message(case, "sms", CITIZEN, "case_accepted", event(), due="2026-12-07").id
    db.session.commit()
    assert send_message(message_id) == "sent"
    post = gateway.posts[0]
    assert post["headers"]["Authorization"] == "Basic aW50YWtlOnB3"
    assert set(post["json"]) == {"to", "text", "ref"}
    # The gateway's answer has no "id": the message still counts as sent, without a gateway id.
    row = db.session.get(Message, message_id)
    assert row.status is MessageStatus.SENT and row.gateway_id == ""


# --- mail ------------------------------------------------------------------------------------------


class MailServer(socketserver.ThreadingTCPServer):
    """Just enough SMTP to take mail: EHLO, MAIL, RCPT, DATA, QUIT."""

    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), SmtpHandler)
        self.mail: list[dict] = []


class SmtpHandler(socketserver.StreamRequestHandler):
    def reply(self, line: str):
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self):
        envelope = {"from": "", "to": []}
        self.reply("220 localhost ESMTP test")
        while line := self.rfile.readline():
            command = line.decode("utf-8", "replace").strip()
            verb = command.split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                self.reply("250-localhost")
                self.reply("250 8BITMIME")
            elif verb == "MAIL":
                envelope["from"] = command.split(":", 1)[1].strip(" <>")
                self.reply("250 OK")
            elif verb == "RCPT":
                envelope["to"].append(command.split(":", 1)[1].strip(" <>"))
                self.reply("250 OK")
            elif verb == "DATA":
                self.reply("354 end with .")
                data = b""
                while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                    data += chunk[1:] if chunk.startswith(b"..") else chunk
                self.server.mail.append({**envelope, "data": data})
                self.reply("250 OK queued")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("250 OK")


@pytest.fixture
def mail_server(app, monkeypatch):
    server = MailServer()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    for key, value in {
        "NOTIFY_MAIL_BACKEND": "smtp",
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": server.server_address[1],
        "MAIL_FROM": "12315@county.example",
        "MAIL_USE_TLS": False,
        "MAIL_USE_SSL": False,
        "MAIL_USERNAME": "",
    }.items():
        monkeypatch.setitem(app.config, key, value)
    yield server
    server.shutdown()
    server.server_close()


def test_mail_goes_out_over_smtp_in_utf8(mail_server, case, event, drain):
    message = queue_message(
        case, "mail", "oubei@example.test", "clock_red", event(), clock="签收", due="2026-12-01 17:30"
    )
    db.session.commit()
    message_id, tracking_no = message.id, case.tracking_no
    drain()
    assert len(mail_server.mail) == 1
    sent = mail_server.mail[0]
    assert sent["from"] == "12315@county.example" and sent["to"] == ["oubei@example.test"]
    mail = email.message_from_bytes(sent["data"], policy=email.policy.default)
    assert mail["Subject"].startswith("【十小投诉举报】案件") and tracking_no in mail["Subject"]
    assert "已列入督办" in mail.get_content() and mail.get_content_charset() == "utf-8"
    row = db.session.get(Message, message_id)
    assert (
        row.status is MessageStatus.SENT and row.gateway_id == mail["Message-ID"].strip()
    )  # a long id folds onto its own line


def test_a_mail_server_that_is_down_is_retried(app, mail_server, case, event, drain, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_PORT", 1)  # nothing listens there
    monkeypatch.setitem(app.config, "NOTIFY_RETRY_INTERVALS", [30])
    message_id = queue_message(
        case, "mail", "oubei@example.test", "clock_red", event(), clock="签收", due="2026-12-01 17:30"
    ).id
    db.session.commit()
    drain()
    row = db.session.get(Message, message_id)
    assert (row.status, row.attempts) == (MessageStatus.QUEUED, 1) and "mail server" in row.last_error

    monkeypatch.setitem(app.config, "MAIL_PORT", mail_server.server_address[1])  # back up
    drain(fast_forward=True)
    db.session.expire_all()
    assert db.session.get(Message, message_id).status is MessageStatus.SENT
    assert len(mail_server.mail) == 1
