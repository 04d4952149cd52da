"""The baseline for ``portal_load.py``: a bare Flask app with one small JSON endpoint.

Served under the same ``gunicorn.conf.py`` as the portal, it measures what gunicorn,
Werkzeug and Flask cost per request on this machine before any Tracemark work:

    gunicorn -c gunicorn.conf.py --pythonpath benchmarks 'bare_app:create_bare_app()'

No database, no limiter, no templates. ``/healthz`` lets a benchmark wait for this server
exactly as it waits for the portal; ``POST /capture`` is the baseline of
``api_capture_bench.py``: it reads and parses the JSON body and answers counts, as the
integration API's capture does before any validation or storage.
"""

from __future__ import annotations

from flask import Flask, request


def create_bare_app() -> Flask:
    app = Flask("tracemark_bare")

    @app.get("/healthz")
    def healthz():
        response = app.json.response({"status": "ok", "verdict": "genuine_first_scan"})
        response.headers["Cache-Control"] = "no-store"
        return response

    @app.post("/capture")
    def capture():
        body = request.get_json()
        events = body["epcisBody"]["eventList"] if isinstance(body, dict) else body
        return app.json.response({"stored": len(events), "already_held": 0})

    return app
