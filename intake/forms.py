"""What every area's forms share."""

from flask_wtf import FlaskForm


class ActionForm(FlaskForm):
    """A bare form that carries the CSRF token for one-click actions."""


def errors_text(form) -> str:
    """All of a form's error messages, for a flash."""
    return "；".join(str(e) for errs in form.errors.values() for e in errs)
