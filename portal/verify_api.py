"""The public verification API: the portal's verdict as JSON (see portal/openapi.yaml)."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, jsonify, request, send_from_directory

from portal import messages
from portal.views import explanation, run_scan
from signing.codes import MAX_URL_LENGTH
from tracemark.scanning.lookup import ScanResult
from tracemark.web import error_response, rate_limited

bp = Blueprint("api", __name__, url_prefix="/api/v1")
HERE = Path(__file__).resolve().parent


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def to_json(result: ScanResult) -> dict:
    outcome, view, code = result.outcome, result.view, result.outcome.check.code
    body: dict = {
        "verdict": outcome.verdict.value,
        "reason": outcome.reason,
        "patterns": outcome.patterns,
        "headline": str(messages.HEADLINES[outcome.verdict]),
        "explanation": explanation(result),
        "pattern_explanations": [str(messages.PATTERNS[p]) for p in outcome.patterns],
        "degraded": result.degraded,
        "code": None,
        "brand": None,
        "batch": None,
        "scans": None,
    }
    if outcome.verdict.value == "not_genuine":
        body["reason_explanation"] = messages.reason_text(outcome.reason)
    if code is not None:
        body["code"] = {"gtin": code.gtin, "lot": code.lot, "serial": code.serial, "kid": code.kid}
    if result.brand_name:
        body["brand"] = {"name": result.brand_name, "contact": result.brand_contact}
    if outcome.scan_count:
        body["scans"] = {
            "count": outcome.scan_count,
            "first_scan_at": _iso(outcome.first_scan_at),
            "first_country": outcome.first_country,
            "claimed_at": _iso(outcome.claimed_at),
            "owner": outcome.owner,
        }
    if view is not None:
        site = view.site
        body["batch"] = {
            "product": view.product_name,
            "lot": view.lot,
            "production_date": _iso(view.production_date),
            "expiry_date": _iso(view.expiry_date),
            "origin": {"site": site.name, "region": site.region, "country": site.country}
            if site
            else None,
            "notice": view.notice,
            "story": {"title": view.story_title, "body": view.story_body}
            if view.story_body
            else None,
            "documents": [
                {
                    "title": d.title,
                    "issuer": d.issuer,
                    "issued_on": _iso(d.issued_on),
                    "sha256": d.sha256,
                    "size": d.size,
                    "url": f"/documents/{d.id}/report-{d.id}.pdf",
                }
                for d in view.documents
            ],
            "journey": [
                {
                    "time": _iso(s.when),
                    "biz_step": s.biz_step,
                    "place": s.place,
                    "country": s.country,
                }
                for s in view.journey
            ],
        }
    return body


@bp.route("/verify", methods=["GET", "POST"])
@rate_limited("scan")
def verify():
    if request.method == "POST":
        payload = request.get_json(silent=True)
        url = payload.get("url") if isinstance(payload, dict) else request.form.get("url")
    else:
        url = request.args.get("url")
    if not isinstance(url, str) or not url:
        return error_response(400, "missing_url", "Give the code URL as 'url'.")
    if len(url) > MAX_URL_LENGTH:
        message = f"A code URL has at most {MAX_URL_LENGTH} characters."
        return error_response(400, "url_too_long", message)
    response = jsonify(to_json(run_scan(url)))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/openapi.yaml")
def openapi():
    return send_from_directory(HERE, "openapi.yaml", mimetype="application/yaml")
