"""/healthz (the process answers), /readyz (it can do its work), /metrics (Prometheus).

All three are MACHINE routes (intake/authz.py): no login, no cookies, no personal data in them.
/metrics needs METRICS_TOKEN as a bearer token, or a client address in METRICS_NETWORKS.
"""

import hmac
import ipaddress

from flask import Blueprint, Response, current_app, jsonify, request
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.multiprocess import MultiProcessCollector

from intake.health.services import ScrapeCollector, readiness
from intake.metrics import REGISTRY, multiprocess

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """Up: answers without the database or Redis (a restart is the remedy only when this fails)."""
    return jsonify({"status": "ok"})


@bp.get("/readyz")
def readyz():
    ready, body = readiness(current_app)
    return jsonify(body), 200 if ready else 503


@bp.get("/metrics")
def metrics():
    if not _scraper_allowed():
        return Response("a bearer token is needed\n", 401, {"WWW-Authenticate": 'Bearer realm="metrics"'})
    registry = CollectorRegistry(auto_describe=False)
    if multiprocess():
        MultiProcessCollector(registry)  # every gunicorn worker's files, summed
    else:
        registry.register(_Forward(REGISTRY))
    registry.register(ScrapeCollector(current_app._get_current_object()))
    return Response(generate_latest(registry), 200, {"Content-Type": CONTENT_TYPE_LATEST})


class _Forward:
    """This process's own metrics (single-process mode: development, tests, waitress)."""

    def __init__(self, registry):
        self.registry = registry

    def collect(self):
        return self.registry.collect()


def _scraper_allowed() -> bool:
    token = current_app.config.get("METRICS_TOKEN") or ""
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if token and scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode()):
        return True
    return _from_allowed_network(request.remote_addr, current_app.config.get("METRICS_NETWORKS", ""))


def _from_allowed_network(addr: str | None, spec: str) -> bool:
    if not addr or not spec.strip():
        return False
    try:
        client = ipaddress.ip_address(addr)
    except ValueError:
        return False
    for part in filter(None, (p.strip() for p in spec.split(","))):
        try:
            if client in ipaddress.ip_network(part, strict=False):
                return True
        except ValueError:
            continue
    return False
