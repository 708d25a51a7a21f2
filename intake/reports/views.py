"""The supervisor's figures page (信息报送) and its CSV and XLSX downloads."""

from urllib.parse import quote

from flask import Blueprint, Response, abort, render_template, request
from flask_login import current_user

from intake.reports import services

bp = Blueprint("reports", __name__, url_prefix="/staff/figures")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _report() -> services.Report:
    """The report for the period in the query string, scoped to the user's county."""
    try:
        period = services.parse_period(request.args.get("period"), request.args.get("date"))
    except ValueError:
        abort(400)
    return services.build_report(period, current_user.county_code)


@bp.get("/")
def figures():
    return render_template("reports/figures.html", report=_report(), figures=services.FIGURES)


@bp.get("/figures.csv")
def figures_csv():
    report = _report()
    return _attachment(services.report_csv(report), "text/csv; charset=utf-8", report.period, "csv")


@bp.get("/figures.xlsx")
def figures_xlsx():
    report = _report()
    return _attachment(services.report_xlsx(report), XLSX, report.period, "xlsx")


def _attachment(body: bytes, mimetype: str, period: services.Period, ext: str) -> Response:
    """A download named 统计_2026-W47.xlsx (RFC 5987), with an ASCII name for old clients."""
    name, fallback = f"统计_{period.slug}.{ext}", f"figures_{period.slug}.{ext}"
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name)}"
    response.headers["Cache-Control"] = "private, no-store"
    return response
