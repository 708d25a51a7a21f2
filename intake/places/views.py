"""GET /places/search: the pickers of the dispatcher's case page and the operator console."""

from flask import Blueprint, jsonify, request

from intake.navigation import nul_characters_handled
from intake.places import services

bp = Blueprint("places", __name__, url_prefix="/places")


@bp.get("/search")
@nul_characters_handled
def search():
    """?q=…[&township=CODE][&limit=N] → {"results": [{code, name, county, county_name, level, how}]}."""
    limit = request.args.get("limit", services.DEFAULT_LIMIT, type=int)
    try:
        results = services.search_places(
            request.args.get("q", ""),
            request.args.get("township") or None,
            limit=limit if limit is not None else services.DEFAULT_LIMIT,
        )
    except services.PlaceQueryError as exc:
        return jsonify({"results": [], "error": str(exc)}), 400
    response = jsonify({"results": results})
    response.headers["Cache-Control"] = "private, no-cache"
    return response
