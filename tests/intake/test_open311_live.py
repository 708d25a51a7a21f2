"""Open311 against the live site, with a client that is not ours: gunicorn on port 8390 and a real
`flask worker`, both on a redis-server of their own (port 8391) and the suite's database.

The GeoReport client is the PyPI package `georeport` (0.3.1). It lists services and reads service
definitions, but it has no call for POST requests or tokens/{token}, and it sends no `api_key` on
its GET requests calls, which our server needs to show a request (intake/open311/services.py says
why). Those steps use `curl`, as the spec's own examples do; the test shows what georeport gets
from them (the spec's 403 array).
"""

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from xml.etree import ElementTree as ET

import pytest
import requests
from georeport import GeoReport

from intake.config import ROOT
from intake.extensions import db
from intake.open311 import services
from tests.intake.open311_helpers import as_text, validate, xml_as_json
from tests.intake.test_open311 import PHARMACY, SECRET_BITS
from tests.intake.test_worker_outages import RedisServer, start_worker, stop_worker

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not shutil.which("redis-server"), reason="needs a redis-server binary"),
    pytest.mark.skipif(not shutil.which("curl"), reason="needs curl"),
]
WEB_PORT, REDIS_PORT = 8390, 8391
QUEUE = "intake-open311-live"
BASE = f"http://127.0.0.1:{WEB_PORT}/open311/v2"


@pytest.fixture
def live(app, tmp_path):
    """gunicorn with the site and a worker, both on our redis-server and the suite's database."""
    redis = RedisServer(tmp_path, port=REDIS_PORT)
    redis.start()
    env = dict(
        os.environ,
        DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
        REDIS_URL=redis.url,
        RQ_QUEUE=QUEUE,
        INSTANCE_PATH=app.instance_path,
        NOTIFY_SMS_BACKEND="memory",
        NOTIFY_MAIL_BACKEND="memory",
        NOTIFY_QUIET_HOURS="",
        PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "prometheus"),
    )
    log = open(tmp_path / "web.log", "wb")
    web = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", "1", "-b", f"127.0.0.1:{WEB_PORT}", "wsgi:app"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=log,
    )
    worker = start_worker(app, tmp_path, redis_url=redis.url, queue=QUEUE, NOTIFY_QUIET_HOURS="")
    try:
        _wait_for_site(web, tmp_path)
        yield
    finally:
        stop_worker(worker)
        web.terminate()
        web.wait(30)
        redis.kill()


def _wait_for_site(web, tmp_path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert web.poll() is None, (tmp_path / "web.log").read_text(errors="replace")[-4000:]
        try:
            with urllib.request.urlopen(f"{BASE}/discovery.json", timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise AssertionError("gunicorn did not answer within 60 s")


def curl(*args: str) -> tuple[int, bytes]:
    """curl as the spec's examples call it; (HTTP status, body)."""
    out = subprocess.run(
        ["curl", "-sS", "-w", "\\n%{http_code}", *args], capture_output=True, check=True, timeout=30
    ).stdout
    body, _sep, status = out.rpartition(b"\n")
    return int(status), body


def curl_post(key: str | None, **fields) -> tuple[int, bytes]:
    data = {**PHARMACY, **fields, **({"api_key": key} if key else {})}
    args = [a for name, value in data.items() if value is not None for a in ("--data-urlencode", f"{name}={value}")]
    return curl("-X", "POST", f"{BASE}/requests.json", *args)


def test_a_georeport_client_and_curl_file_and_follow_a_request_on_the_live_site(live):
    _key, key = services.issue_key("温州市民通 App", "100 per minute")
    db.session.commit()
    client = GeoReport(BASE, api_key=key)

    codes = [s["service_code"] for s in client.get_service_list()]
    assert "pharmacy-complaint" in codes
    assert [s["service_code"] for s in GeoReport(BASE, output_format="xml").get_service_list()] == codes
    definition = client.get_service_definition("pharmacy-complaint")
    validate("service-definition", definition)
    assert any(a["code"] == "township" and a["datatype"] == "singlevaluelist" for a in definition["attributes"])

    status, body = curl_post(key)
    assert status == 201, body
    [created] = json.loads(body)
    number, token = created["service_request_id"], created["token"]
    status, body = curl(f"{BASE}/tokens/{token}.json")
    assert status == 200 and json.loads(body) == [{"service_request_id": number, "token": token}]

    with pytest.raises(requests.HTTPError) as refused:  # georeport sends no api_key on GETs
        client.get_service_request(number)
    assert refused.value.response.status_code == 403 and refused.value.response.json()[0]["code"] == 403

    url = f"{BASE}/requests/{number}.json?api_key={key}"
    deadline, request = time.monotonic() + 60, None
    while time.monotonic() < deadline:
        status, body = curl(url)
        assert status == 200, body
        [request] = json.loads(body)
        if request["agency_responsible"]:
            break
        time.sleep(0.5)
    validate("request", request)
    assert request["agency_responsible"] == "永嘉县市场监督管理局", "the worker did not route it within 60 s"
    assert request["expected_datetime"].endswith("+08:00")

    status, xml = curl(f"{BASE}/requests.xml?api_key={key}")
    assert status == 200
    ET.fromstring(xml)  # well-formed
    status, listed = curl(f"{BASE}/requests.json?api_key={key}")
    validate("requests", json.loads(listed))
    assert xml_as_json(xml) == as_text(json.loads(listed)) and number in listed.decode()
    for text in (xml.decode(), listed.decode(), body.decode()):
        assert not any(secret in text for secret in SECRET_BITS)


def test_the_live_site_refuses_with_the_specs_errors(live):
    status, body = curl_post(None)
    assert status == 403 and json.loads(body)[0]["code"] == 403
    _key, key = services.issue_key("已停用单位", "100 per minute")
    db.session.commit()
    services.revoke_key(_key.id)
    db.session.commit()
    status, body = curl_post(key)
    assert status == 403 and json.loads(body)[0]["code"] == 403
    _key2, good = services.issue_key("温州市民通 App", "100 per minute")
    db.session.commit()
    status, body = curl_post(good, service_code="bakery-complaint")
    assert status == 404 and json.loads(body)[0]["code"] == 404
    with pytest.raises(requests.HTTPError) as unknown:
        GeoReport(BASE).get_service_definition("bakery-complaint")
    assert unknown.value.response.status_code == 404
