"""One answer, two formats: JSON as it is, or the same content as XML (the spec's element names)."""

from xml.etree import ElementTree as ET

from flask import Response, jsonify

XML_TYPE = "text/xml; charset=utf-8"
# a list under this name holds elements of that name (<attributes><attribute>…)
LIST_ITEMS = {
    "services": "service",
    "service_requests": "request",
    "errors": "error",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
}


def render(data, fmt: str, root: str, status: int = 200, headers: dict | None = None) -> Response:
    """`data` (a list of objects, or one object) as JSON, or as XML under <root>."""
    if fmt != "xml":
        response = jsonify(data)
    else:
        response = Response(to_xml(data, root), mimetype="text/xml", content_type=XML_TYPE)
    response.status_code = status
    response.headers.update(headers or {})
    return response


def to_xml(data, root: str) -> bytes:
    element = ET.Element(root)
    _fill(element, data)
    return ET.tostring(element, encoding="utf-8", xml_declaration=True)


def _fill(element: ET.Element, value) -> None:
    if isinstance(value, list):
        item = LIST_ITEMS[element.tag]
        for entry in value:
            _fill(ET.SubElement(element, item), entry)
    elif isinstance(value, dict):
        for key, entry in value.items():
            _fill(ET.SubElement(element, key), entry)
    elif value is not None:  # None: an empty element
        element.text = text_of(value)


def text_of(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
