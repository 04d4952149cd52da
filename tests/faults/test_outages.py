"""PostgreSQL or Redis going away while the portal serves, and coming back.

Each server is reached through a :class:`Proxy` the test cuts and restores, so the app
sees refused and reset connections exactly as when the server stops, while the shared
servers keep serving the rest of the suite.
"""

from __future__ import annotations

import re
import time
from dataclasses import replace

import pytest
import redis

from tests.conftest import PASSPHRASE, REDIS_HOST, REDIS_PORT
from tests.faults.proxy import Proxy
from tracemark.app import close, create_app
from tracemark.codes import issuance
from tracemark.codes.printing import batch_urls

pytestmark = pytest.mark.fault


def _verdict(response) -> str:
    return re.search(r'data-verdict="([a-z_]+)"', response.get_data(as_text=True)).group(1)


@pytest.fixture
def codes(db, demo) -> list[str]:
    issuance.issue(db.sessions, demo.batch.id, 3, PASSPHRASE)
    with db.sessions() as session:
        return [url for _s, url, _p in batch_urls(session, session.merge(demo.batch), "http://x")]


@pytest.mark.parametrize("db", ["postgresql"], indirect=True)
def test_postgresql_stopping_degrades_every_route_and_the_portal_recovers(settings, db, codes):
    proxy = Proxy(("127.0.0.1", db.engine.url.port or 5432))
    url = db.url.replace(f":{db.engine.url.port}/", f":{proxy.port}/")
    app = create_app(replace(settings, database_url=url), {"TESTING": True})
    client = app.test_client()
    try:
        assert _verdict(client.get(codes[0])) == "genuine_first_scan"
        assert client.get("/readyz").status_code == 200

        proxy.cut()  # the server goes away, open connections and all
        page = client.get(codes[1])
        assert page.status_code == 200 and _verdict(page) == "genuine_signature_unchecked"
        api = client.get("/api/v1/verify", query_string={"url": codes[2]})
        assert api.status_code == 200 and api.json["degraded"] is True
        assert client.get("/.well-known/tracemark/keys.json").status_code == 200
        assert client.get("/readyz").status_code == 503
        assert client.get("/admin/login").status_code < 500
        assert client.get("/documents/1/report.pdf").status_code == 503

        proxy.restore()
        # two more phones (a reload by the first would be a view): at most one scan per
        # pool meets a connection that died with the server
        phones = [{"REMOTE_ADDR": f"203.0.{n}.9"} for n in (1, 2)]
        verdicts = [
            _verdict(app.test_client().get(codes[0], environ_base=phone)) for phone in phones
        ]
        assert verdicts[-1] == "genuine_scanned_before", verdicts
        assert client.get("/readyz").status_code == 200
    finally:
        close(app)
        proxy.close()


def test_redis_stopping_keeps_limits_in_memory_and_they_return_to_redis(settings, codes, redis_db):
    proxy = Proxy((REDIS_HOST, REDIS_PORT))
    url = f"redis://127.0.0.1:{proxy.port}/{redis_db}"
    direct = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=redis_db)
    app = create_app(replace(settings, redis_url=url, scan_rate_limit="4/day"), {"TESTING": True})
    client = app.test_client()

    def counted() -> int:
        return sum(int(direct.get(key) or 0) for key in direct.keys("*"))

    try:
        assert [client.get(codes[0]).status_code for _ in range(2)] == [200, 200]
        assert counted() == 2

        proxy.cut()
        statuses = [client.get(codes[0]).status_code for _ in range(6)]
        assert set(statuses) <= {200, 429} and statuses[-1] == 429  # still limited
        assert counted() == 2  # ...in memory, while Redis is away

        proxy.restore()
        deadline = time.monotonic() + 15
        while counted() == 2:  # the limiter probes Redis with a growing back-off
            assert time.monotonic() < deadline, "limits never went back to Redis"
            assert client.get(codes[0]).status_code in (200, 429)
            time.sleep(0.5)
    finally:
        close(app)
        proxy.close()
        direct.close()
