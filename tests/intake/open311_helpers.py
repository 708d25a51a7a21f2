"""What the Open311 tests share: the copied GeoReport v2 schemas, a key, and XML read back as JSON."""

import json
import pathlib
from xml.etree import ElementTree as ET

from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from intake.open311.formats import LIST_ITEMS

SCHEMAS = pathlib.Path(__file__).parent.parent / "data" / "open311"
NAMES = ("request", "requests", "service", "services", "service-definition")


def _registry() -> Registry:
    resources = []
    for name in NAMES:
        contents = json.loads((SCHEMAS / f"{name}.json").read_text(encoding="utf-8"))
        resources.append((f"{name}.json", Resource.from_contents(contents, default_specification=DRAFT202012)))
    return Registry().with_resources(resources)


REGISTRY = _registry()


def validate(name: str, data) -> None:
    """Raise jsonschema.ValidationError unless `data` matches tests/data/open311/<name>.json."""
    schema = REGISTRY.contents(f"{name}.json")
    Draft202012Validator(schema, registry=REGISTRY, format_checker=FormatChecker()).validate(data)


def xml_as_json(payload: bytes):
    """The XML answer read back into JSON's shape: a list for each list element, leaves as text."""
    return _read(ET.fromstring(payload))


def _read(element: ET.Element):
    if element.tag in LIST_ITEMS:
        return [_read(child) for child in element]
    if len(element):
        return {child.tag: _read(child) for child in element}
    return element.text


def as_text(value):
    """JSON's values as the XML carries them (true/false, numbers as text, null as an empty element)."""
    if isinstance(value, list):
        return [as_text(v) for v in value]
    if isinstance(value, dict):
        return {k: as_text(v) for k, v in value.items()}
    if isinstance(value, bool):
        return "true" if value else "false"
    return None if value is None else str(value)
