"""Schemathesis hooks for .ci/api-schema: sign each SMS webhook body as the gateway would, and give
the Open311 calls that carry an api_key a real one (OPEN311_KEY, issued by .ci/api-schema).

The webhook checks X-Signature, the hex HMAC-SHA256 of the raw body with SMS_WEBHOOK_SECRET; the
body is sent as exactly the bytes signed, so the tests reach the webhook's reading of the body.
"""

import hashlib
import hmac
import json
import os

import schemathesis


@schemathesis.hook
def before_call(context, case, kwargs):
    """A body sent with an X-Signature gets the right one; one sent without stays unsigned (the 401 checks).
    An Open311 call with an api_key gets the issued key; one without stays without (the 403 checks)."""
    if case.path.startswith("/open311/") and "api_key" in (case.query or {}) and os.environ.get("OPEN311_KEY"):
        case.query = {**case.query, "api_key": os.environ["OPEN311_KEY"]}
        return
    if case.path != "/sms/inbound" or "X-Signature" not in (case.headers or {}):
        return
    if not isinstance(case.body, (dict, list, str, int, float, bool)):
        return
    raw = json.dumps(case.body).encode()
    secret = os.environ["SMS_WEBHOOK_SECRET"].encode()
    case.headers = {**(case.headers or {}), "X-Signature": hmac.new(secret, raw, hashlib.sha256).hexdigest()}
    kwargs["data"] = raw  # requests sends `data` rather than the `json` it would serialize itself
