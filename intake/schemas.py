"""What every JSON entry point's pydantic models share: strict text and the errors in Chinese.

The models are strict (a number where text belongs is an error, not a guess) and built once, at
import. `field_errors` turns pydantic's ValidationError into the `{"a.b": ["…"]}` our JSON answers
carry: a rule's own message (raised as `problem(message)`), else one of ours by the error's type.
"""

from collections.abc import Mapping
from typing import Annotated

from flask_babel import gettext as _
from pydantic import AfterValidator, StrictStr, ValidationError
from pydantic_core import PydanticCustomError

from intake.inputs import text_problem

RULE = "rule"  # the error type of a rule's own message
UNION_TAGS = {"str", "int", "float", "bool", "none"}


def problem(message) -> PydanticCustomError:
    """A field error with this message (translated now, in the request's language)."""
    return PydanticCustomError(RULE, "{message}", {"message": str(message)})


def _storable(value: str) -> str:
    found = text_problem(value)
    if found:
        raise problem(found)
    return value


# Text the database can store: NUL, lone surrogates and C0 controls are a field error (intake/inputs.py).
Text = Annotated[StrictStr, AfterValidator(_storable)]


def _by_type(kind: str) -> str:
    if kind == "string_type":
        return _("必须是文字。")
    if kind == "bool_type":
        return _("必须是 true 或 false。")
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return _("必须是整数。")
    if kind == "missing":
        return _("不能为空。")
    return _("格式不正确。")


def field_errors(exc: ValidationError, messages: Mapping[tuple[str, str], object] = {}) -> dict[str, list[str]]:
    """{dotted field: [messages]}; `messages[(field, error type)]` (type "*" for any) overrides ours."""
    errors: dict[str, list[str]] = {}
    for err in exc.errors(include_url=False, include_input=False):
        # list indexes and a union's member tags ("str", "function-after[…]") are not field names
        loc = [str(p) for p in err["loc"] if isinstance(p, str) and p not in UNION_TAGS and "[" not in p]
        where = ".".join(loc) or "body"
        if err["type"] == RULE:
            message = err["ctx"]["message"]
        else:
            chosen = messages.get((where, err["type"])) or messages.get((where, "*"))
            message = str(chosen) if chosen is not None else _by_type(err["type"])
        if message not in errors.setdefault(where, []):
            errors[where].append(message)
    return errors


def required(*names: str, examples: list | None = None):
    """A model's `json_schema_extra`: these fields are required in the document, with no default shown.

    The model gives them a default of None so that a missing one gets the rule's own message (the
    same as an empty one) rather than pydantic's; the document says what a client must send.
    """

    def amend(schema: dict) -> None:
        schema["required"] = list(names)
        for name in names:
            schema["properties"][name].pop("default", None)
        if examples:
            schema["examples"] = examples

    return amend
