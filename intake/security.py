"""Security headers on every response, a per-request CSP nonce, and the proxies we trust.

Our own after-request hook rather than Flask-Talisman: Talisman's last release (1.1.0) is from
2023-08, its HTTPS redirect and cookie flags overlap with what the proxy and intake.config already
do, and what we need is a few fixed headers plus one rule for caching. Thirty lines we read
beat a dependency that is no longer kept up.

- Content-Security-Policy: scripts and styles only from this site or with the response's nonce
  (`{{ csp_nonce() }}` in a template), never `unsafe-inline`; no framing, no plugins, no <base>,
  forms post only here.
- Cache-Control: no-store on every page but static files: staff pages, the receipt and the
  lookup result show personal data, and one rule for all cannot miss a new page.
- Referrer-Policy: no-referrer, so a link out of a lookup or receipt page carries no URL.
- Strict-Transport-Security only in production (APP_ENV=production), where the site is HTTPS.
"""

import secrets

from flask import Flask, current_app, g, request
from werkzeug.middleware.proxy_fix import ProxyFix

HSTS = "max-age=31536000; includeSubDomains"
PROXY_SETTINGS = {"x_for": "PROXY_FIX_X_FOR", "x_proto": "PROXY_FIX_X_PROTO", "x_host": "PROXY_FIX_X_HOST"}


def csp_nonce() -> str:
    """This request's nonce for inline <script> and <style> elements (one per request)."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(18)
    return g.csp_nonce


def content_security_policy(nonce: str) -> str:
    return "; ".join(
        (
            "default-src 'self'",
            f"script-src 'self' 'nonce-{nonce}'",
            f"style-src 'self' 'nonce-{nonce}'",
            "img-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )


def _set_headers(response):
    headers = response.headers
    headers.setdefault("Content-Security-Policy", content_security_policy(csp_nonce()))
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")  # frame-ancestors for browsers that predate it
    headers.setdefault("Referrer-Policy", "no-referrer")
    if request.endpoint != "static":
        headers["Cache-Control"] = "no-store"
        headers.pop("Expires", None)
    if current_app.config.get("APP_ENV") == "production":
        headers.setdefault("Strict-Transport-Security", HSTS)
    return response


def trust_proxies(app: Flask) -> None:
    """Believe X-Forwarded-For/-Proto/-Host from exactly as many proxies as the settings say (0: none).

    With PROXY_FIX_X_FOR=1 `request.remote_addr` is the address the one proxy in front saw, which
    the throttles count by; a client's own X-Forwarded-For entries further left are ignored.
    """
    counts = {arg: int(app.config.get(setting, 0)) for arg, setting in PROXY_SETTINGS.items()}
    if any(counts.values()):
        app.wsgi_app = ProxyFix(app.wsgi_app, **counts)


def init_app(app: Flask) -> None:
    trust_proxies(app)
    app.after_request(_set_headers)
    app.jinja_env.globals["csp_nonce"] = csp_nonce
