"""What a message still to be sent needs and the database must not show: a receipt's lookup code.

The stored body has a mask (******) where the code stands; the code itself is kept next to it,
encrypted with Fernet (AES-128-CBC and HMAC-SHA256, from the `cryptography` package) under a key
derived from MESSAGE_SECRET_KEY (by default from SECRET_KEY), so that a send job lost with Redis can be re-created from the row
and the citizen never gets the mask. The sending job clears it once the message is sent or given
up. MESSAGE_SECRET_OLD_KEYS (comma-separated) still open what older keys sealed.

A receipt not yet made into a message is sealed the same way on its case (`case.sealed_receipt`,
the template and the code), until notify.tasks.send_receipt makes the message and clears it.
"""

import base64
import functools
import hashlib
import json

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app


def _fernet(secret: str) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(secret.encode()).digest()))


@functools.lru_cache(maxsize=8)
def _key_set(key: str, old_keys: str) -> MultiFernet:
    """The keys derived once per process and setting, not once per message."""
    old = [k.strip() for k in old_keys.split(",") if k.strip()]
    return MultiFernet([_fernet(key), *map(_fernet, old)])


def _keys() -> MultiFernet:
    config = current_app.config
    key = config.get("MESSAGE_SECRET_KEY") or "message-secret:" + config["SECRET_KEY"]
    return _key_set(key, config.get("MESSAGE_SECRET_OLD_KEYS") or "")


def seal_json(value) -> str:
    """Any JSON value, encrypted for a row."""
    return _keys().encrypt(json.dumps(value).encode()).decode()


def unseal_json(token: str | None):
    """The value again, or None when there is nothing sealed or no key opens it."""
    if not token:
        return None
    try:
        return json.loads(_keys().decrypt(token.encode()))
    except (InvalidToken, ValueError):
        return None


def seal(secret: list[tuple[int, str]]) -> str:
    """The (offset, value) pairs of a body's masks, encrypted for the message row."""
    return seal_json(secret)


def unseal(token: str | None) -> list[tuple[int, str]] | None:
    """The pairs again, or None when there is nothing sealed or no key opens it."""
    pairs = unseal_json(token)
    if pairs is None:
        return None
    try:
        return [(int(offset), str(value)) for offset, value in pairs]
    except (TypeError, ValueError):
        return None
