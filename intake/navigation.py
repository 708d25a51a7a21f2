"""Where to send a user back to after a form."""


def local_or(target: str, fallback: str) -> str:
    """The target if it is a path on this site, else the fallback (no open redirect)."""
    return target if target.startswith("/") and not target.startswith("//") else fallback
