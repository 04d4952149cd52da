"""The baseline for ``portal_load.py``: a bare Flask app with one small JSON endpoint.

Served under the same ``gunicorn.conf.py`` as the portal, it measures what gunicorn,
Werkzeug and Flask cost per request on this machine before any Tracemark work:

    gunicorn -c gunicorn.conf.py --pythonpath benchmarks 'bare_app:create_bare_app()'

No database, no limiter, no templates. The single route is ``/healthz`` so that the
benchmark waits for this server exactly as it waits for the portal.
"""

from __future__ import annotations

from flask import Flask


def create_bare_app() -> Flask:
    app = Flask("tracemark_bare")

    @app.get("/healthz")
    def healthz():
        response = app.json.response({"status": "ok", "verdict": "genuine_first_scan"})
        response.headers["Cache-Control"] = "no-store"
        return response

    return app
