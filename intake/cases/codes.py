"""The tracking number's check digit and the lookup code's keyed hash.

A tracking number is 13 digits: the day (YYMMDD, Beijing time), six random digits and a Luhn
check digit (mod 10, as on bank cards). Every number issued since the first release has that
form, so anything else is a typing mistake and is refused before the database is asked.

A lookup code is six random digits, stored as `hmac-sha256$<key id>$<hex>`: the HMAC-SHA256,
with the server's `LOOKUP_CODE_KEY`, of the tracking number and the code, so a hash copied to
another case does not match there. A six-digit code cannot be protected by a slow hash (a
million guesses are cheap whatever the cost of one); it is protected by the key, which is not
in the database, and by the throttling in front of the lookup. Rows from before hold a werkzeug
PBKDF2 hash: still accepted, and rewritten in the new form when their code is given correctly.
"""

import hashlib
import hmac

from flask import current_app
from werkzeug.security import check_password_hash

TRACKING_NO_LENGTH = 13
SCHEME = "hmac-sha256"
LEGACY_PREFIX = "pbkdf2:"  # werkzeug's generate_password_hash, 50,000 rounds: cases filed before HMAC


def check_digit(body: str) -> str:
    """The Luhn digit that completes `body` (digits only)."""
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return str((10 - total % 10) % 10)


def well_formed(tracking_no: str) -> bool:
    """13 ASCII digits whose last is the Luhn check digit of the rest."""
    return (
        len(tracking_no) == TRACKING_NO_LENGTH
        and tracking_no.isascii()
        and tracking_no.isdigit()
        and check_digit(tracking_no[:-1]) == tracking_no[-1]
    )


def hash_code(tracking_no: str, code: str) -> str:
    """The stored form of a case's lookup code, with the current key."""
    key_id = current_app.config["LOOKUP_CODE_KEY_ID"]
    return f"{SCHEME}${key_id}${_mac(current_app.config['LOOKUP_CODE_KEY'], tracking_no, code)}"


def check_code(stored: str | None, tracking_no: str, code: str) -> tuple[bool, bool]:
    """(the code matches, the stored hash should be rewritten with the current key).

    With no stored hash (no such case) an HMAC is still computed and compared, so that a number
    that does not exist takes as long to refuse as a wrong code.
    """
    if stored and stored.startswith(LEGACY_PREFIX):
        ok = check_password_hash(stored, code)
        return ok, ok
    parts = (stored or "").split("$")
    scheme, key_id, digest = parts if len(parts) == 3 else ("", "", "")
    key = _key(key_id) if scheme == SCHEME else None
    expected = _mac(key or current_app.config["LOOKUP_CODE_KEY"], tracking_no, code)
    ok = hmac.compare_digest(expected, digest if key else _DUMMY) and key is not None
    return ok, ok and key_id != current_app.config["LOOKUP_CODE_KEY_ID"]


_DUMMY = "0" * 64  # what a missing case's HMAC is compared with: as long as a real digest


def _key(key_id: str) -> str | None:
    config = current_app.config
    if key_id == config["LOOKUP_CODE_KEY_ID"]:
        return config["LOOKUP_CODE_KEY"]
    return config["LOOKUP_CODE_OLD_KEYS"].get(key_id)


def _mac(key: str, tracking_no: str, code: str) -> str:
    return hmac.new(key.encode(), f"{tracking_no}:{code}".encode(), hashlib.sha256).hexdigest()
