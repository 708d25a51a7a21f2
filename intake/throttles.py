"""Throttles: Flask-Limiter on the app's Redis, each limit a setting (RATELIMIT_* in intake/config.py).

Views stack `limiter.limit(setting("RATELIMIT_…"), key_func=…)`; the limit is read from the config at
request time. A throttled request is a 429 with Retry-After and a Chinese message (intake/errors.py);
the SMS webhook counts its senders itself with `over_limit` (see intake/sms/views.py for why).

Redis down: the limiter falls back to per-process in-memory counters and swallows storage errors,
logging a warning; a throttle never turns a request into a 500. (The login lockout does not depend
on Redis: intake/accounts/services.py keeps it in the database.)
"""

import logging
import time

from flask import current_app, request
from flask_limiter.util import get_remote_address
from limits import parse_many

from intake.extensions import limiter
from intake.redis_conn import redis_url

log = logging.getLogger(__name__)


def storage_uri(url: str) -> str:
    """The `limits` name for a Redis URL: unix:///path (the embedded server) is redis+unix:///path."""
    return "redis+unix://" + url[len("unix://") :] if url.startswith("unix://") else url


def setting(name: str):
    """The limit in the setting `name`, read when a request is checked (tests change it)."""
    return lambda: current_app.config[name]


def by_address() -> str:
    return get_remote_address() or "-"


def by_username() -> str:
    """The username a login tries, as the lockout reads it (trimmed, lower case)."""
    return "user:" + (request.form.get("username") or "").strip().lower()[:64]


def retry_after() -> int:
    """Seconds until the limit this request broke lets a request through again."""
    current = limiter.current_limit
    try:
        return max(1, int(current.reset_at - time.time())) if current else 60
    except Exception:  # the storage went away between the check and the answer
        return 60


def over_limit(name: str, *key: str) -> int | None:
    """Count one request against the setting `name` for `key`: the seconds to wait when over, else None.

    Fails open: with the storage unreachable the request passes and a warning is logged.
    """
    if not (limiter.enabled and limiter.initialized) or _off_in_this_app():
        return None
    try:
        for item in parse_many(current_app.config[name]):
            if not limiter.limiter.hit(item, name, *key):
                reset_at, _ = limiter.limiter.get_window_stats(item, name, *key)
                return max(1, int(reset_at - time.time()))
    except Exception:
        log.warning("rate limit storage unreachable: %s not checked", name, exc_info=True)
    return None


@limiter.request_filter
def _off_in_this_app() -> bool:
    """THROTTLES_ENABLED, read per app and request: the limiter is one object, and a second app in
    the same process (a test's) must not switch the first one's throttles on or off."""
    return not current_app.config.get("THROTTLES_ENABLED", True)


def init_app(app) -> None:
    """Point the limiter at the app's Redis and make it fail open; THROTTLES_ENABLED=false leaves the
    throttles off (the limiter is still bound, so a test can turn them on and call this again).

    Counts are by `request.remote_addr`: behind a proxy, set PROXY_FIX_X_FOR (intake.security)."""
    app.config["RATELIMIT_ENABLED"] = True  # Flask-Limiter's own switch; ours is THROTTLES_ENABLED
    if app.config.get("THROTTLES_ENABLED", True):
        app.config.setdefault("RATELIMIT_STORAGE_URI", storage_uri(redis_url(app)))
    else:  # no need to start the embedded redis-server
        app.config.setdefault("RATELIMIT_STORAGE_URI", "memory://")
    app.config.setdefault("RATELIMIT_STORAGE_OPTIONS", {"socket_connect_timeout": 1, "socket_timeout": 1})
    app.config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)
    app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    app.config.setdefault("RATELIMIT_KEY_PREFIX", "throttle")
    limiter.init_app(app)
    _drop_the_every_request_check(app)


def _drop_the_every_request_check(app) -> None:
    """Flask-Limiter also checks every request of every endpoint in a before_request hook, for its
    default, application-wide and meta limits. We set none: each limit is on its view, and the view's
    decorator checks it (methods, shared scopes and exemptions included). The hook only looked the
    endpoint up in vain, about 4% of a filing's instructions (benchmarks/RESULTS.md, Session 21), so
    it goes, unless a deployment sets one of those after all."""
    if any(app.config.get(name) for name in ("RATELIMIT_DEFAULT", "RATELIMIT_APPLICATION", "RATELIMIT_META")):
        return
    hooks = app.before_request_funcs.get(None, [])
    if limiter._check_request_limit in hooks:
        hooks.remove(limiter._check_request_limit)
