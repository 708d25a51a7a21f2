"""What every area's forms share."""

from babel import support
from flask import current_app, g, make_response, render_template
from flask_babel import get_locale
from flask_wtf import FlaskForm
from wtforms.i18n import messages_path

from intake.inputs import text_problem


class IntakeForm(FlaskForm):
    """The base of every form: text the database cannot store (NUL, lone surrogates, C0 controls)
    is a field error before any other validator runs (one of them might query with it).

    tests/intake/test_faults.py checks that every FlaskForm in the app inherits this.
    """

    class Meta(FlaskForm.Meta):
        def get_translations(self, form):
            """WTForms' own messages ("Not a valid choice.") in the request's language, loaded once
            per process and language (Flask-WTF reads the catalogue from disk on every request)."""
            if not current_app.config.get("WTF_I18N_ENABLED", True):
                return super().get_translations(form)
            return wtforms_translations(str(get_locale()))

    def validate(self, extra_validators=None):
        if not unsafe_text_errors(self):
            return False
        return super().validate(extra_validators)


_TRANSLATIONS: dict = {}


def wtforms_translations(locale: str) -> support.Translations:
    translations = _TRANSLATIONS.get(locale)
    if translations is None:
        translations = _TRANSLATIONS[locale] = support.Translations.load(messages_path(), [locale], domain="wtforms")
    return translations


def unsafe_text_errors(form) -> bool:
    """Put a field error on every field (sub-forms included) whose submitted text cannot be stored;
    True when there was none."""
    ok = True
    for field in form:
        if hasattr(field, "form") and field.type == "FormField":
            ok = unsafe_text_errors(field.form) and ok
            continue
        for raw in getattr(field, "raw_data", None) or ():
            problem = text_problem(raw) if isinstance(raw, str) else None
            if problem:
                field.errors = [*_as_list(field.errors), problem]
                g.setdefault("unsafe_input", {})[str(field.label.text) or field.name] = problem
                ok = False
                break
    return ok


def _as_list(errors) -> list:
    return list(errors) if isinstance(errors, (list, tuple)) else []


class ActionForm(IntakeForm):
    """A bare form that carries the CSRF token for one-click actions."""


def errors_text(form) -> str:
    """All of a form's error messages, for a flash."""
    return "；".join(str(e) for errs in form.errors.values() for e in errs)


def _answer_unsafe_input(response):
    """A request whose form held text we cannot store is a 4xx, whatever its view answered.

    A page that shows the form again (with the field error) becomes a 422; a view that flashed the
    errors and redirected becomes the 400 page naming the fields. A 4xx rolls the request back.
    """
    unsafe = g.pop("unsafe_input", None)
    if not unsafe or response.status_code >= 400:
        return response
    if response.status_code < 300:
        response.status_code = 422
        return response
    message = "；".join(f"{label}：{problem}" for label, problem in unsafe.items())
    return make_response(render_template("error.html", message=message, code=400), 400)


def init_app(app) -> None:
    """Registered after intake.transaction's hook, so it runs before it (hooks run last first)."""
    app.after_request(_answer_unsafe_input)
