"""Schemathesis hooks for .ci/api-schema: sign each SMS webhook body as the gateway would.

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
    if case.path != "/sms/inbound" or "json" not in kwargs:
        return
    raw = json.dumps(kwargs.pop("json")).encode()
    secret = os.environ["SMS_WEBHOOK_SECRET"].encode()
    headers = kwargs.setdefault("headers", {})
    headers["Content-Type"] = "application/json"
    headers["X-Signature"] = hmac.new(secret, raw, hashlib.sha256).hexdigest()
    kwargs["data"] = raw
