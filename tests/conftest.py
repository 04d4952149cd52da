"""Shared fixtures: a migrated database per backend, and a demo brand in a few lines.

Tests that take ``db`` run once on SQLite and once on PostgreSQL. PostgreSQL is reached at
``TRACEMARK_TEST_POSTGRES_URL`` (default: the local server's ``test`` database); each run
gets a schema of its own, dropped at the end. When the server is unreachable the
PostgreSQL cases are skipped, unless ``TRACEMARK_REQUIRE_POSTGRES=1`` (as ``.ci/run``
sets), which makes that a failure.

The suite runs in parallel under pytest-xdist (``-n 2 --dist loadfile``, as the README
says): each worker is its own session, so it migrates its own schema, and it gets a Redis
database of its own (``redis_db``). Browser and fault tests are marked ``slow`` here, so
``-m "not slow"`` is the quick subset.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import itertools
import os
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient
from pypdf import PdfWriter
from pypdf.generic import NameObject
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.serving import make_server

from signing.gs1 import gtin_check_digit
from tests.helpers.browser import CHROMIUM, HOST, LAUNCH_ARGS, unavailable
from tests.helpers.routing import compile_builders_once
from tracemark import catalog
from tracemark.accounts import users as accounts
from tracemark.app import close, create_app
from tracemark.codes import keystore
from tracemark.config import Settings
from tracemark.content import stories as content
from tracemark.content.pdf import clean_pdf
from tracemark.db import make_engine, make_sessionmaker
from tracemark.migrate import migrate_to
from tracemark.models import Batch, Brand, BrandPrefix, Product
from tracemark.trace import events as trace

POSTGRES_URL = os.environ.get(
    "TRACEMARK_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
PASSPHRASE = "test-passphrase"
REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379


def pytest_configure(config: pytest.Config) -> None:
    compile_builders_once()
    config.addinivalue_line(
        "markers",
        "browser: drives a real headless Chromium (skipped without it unless "
        "TRACEMARK_REQUIRE_BROWSER=1)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every browser and fault test is also ``slow``: each starts servers, a browser or a
    subprocess, so none belongs in the quick subset."""
    for item in items:
        if item.get_closest_marker("browser") or item.get_closest_marker("fault"):
            item.add_marker(pytest.mark.slow)


def redis_db_number() -> int:
    """The Redis database this test process uses: 15 without xdist or for worker gw0,
    14 for gw1, and so on, so parallel workers never share rate-limit counters."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    number = 15 - int(worker.removeprefix("gw"))
    if number < 1:  # database 0 is every client's default: never flushed by tests
        pytest.fail(f"no Redis database left for xdist worker {worker}")
    return number


@pytest.fixture
def redis_db() -> Iterator[int]:
    """This process's Redis database (see :func:`redis_db_number`), empty at the start
    and emptied again at the end; skips the test when Redis does not answer."""
    import redis

    number = redis_db_number()
    direct = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=number)
    try:
        direct.flushdb()
    except redis.RedisError:
        pytest.skip("Redis is not running")
    yield number
    with contextlib.suppress(redis.RedisError):
        direct.flushdb()
    direct.close()


@dataclass
class Database:
    name: str
    engine: Engine
    sessions: sessionmaker[Session]

    @property
    def url(self) -> str:
        return self.engine.url.render_as_string(hide_password=False)


def _sqlite_engine(tmp_path_factory) -> Engine:
    path = tmp_path_factory.mktemp("db") / "tracemark.db"
    return make_engine(f"sqlite:///{path}")


def _postgres_engine() -> tuple[Engine, str]:
    schema = f"tm_test_{secrets.token_hex(4)}"
    admin = make_engine(POSTGRES_URL)
    try:
        with admin.begin() as connection:
            connection.execute(text(f"CREATE SCHEMA {schema}"))
    except Exception as exc:  # any failure to reach the server
        admin.dispose()
        message = f"PostgreSQL unavailable at {POSTGRES_URL}: {exc.__class__.__name__}"
        if os.environ.get("TRACEMARK_REQUIRE_POSTGRES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    admin.dispose()
    # the schema travels in the URL, so an app built from the URL alone uses it too
    return make_engine(f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"), schema


@pytest.fixture(
    scope="session", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def db(request, tmp_path_factory) -> Iterator[Database]:
    if request.param == "sqlite":
        engine, schema = _sqlite_engine(tmp_path_factory), None
    else:
        engine, schema = _postgres_engine()
    migrate_to(engine)
    yield Database(request.param, engine, make_sessionmaker(engine))
    engine.dispose()
    if schema:
        admin = make_engine(POSTGRES_URL)
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@dataclass
class DemoBrand:
    brand: Brand
    product: Product
    batch: Batch
    kid: str
    #: The GS1 company prefix the brand holds; its product's GTIN is under it.
    prefix: str = ""


#: Company prefixes handed to test brands: 9 digits from "6", one per brand of the process
#: (every test database is the process's own), none of them overlapping another.
_PREFIXES = itertools.count(1)


def fresh_prefix() -> str:
    """A GS1 company prefix no brand of this test run holds."""
    return f"6{next(_PREFIXES):08d}"


def gtin_under(prefix: str, item: int = 1) -> str:
    """The GTIN-14 of item reference ``item`` under ``prefix`` (indicator digit 0)."""
    body = "0" + prefix + f"{item:0{12 - len(prefix)}d}"
    return body + str(gtin_check_digit(body))


#: The product every test brand makes unless it asks for one under its own prefix: GS1's
#: example GTIN, which many brands hold here at once.
LEGACY_GTIN = "09506000134352"


def make_brand(
    sessions: sessionmaker[Session], *, lot: str = "L2401A", owned: bool = False
) -> DemoBrand:
    """A brand holding a GS1 company prefix of its own, with a product, a batch and an
    active key, committed.

    With ``owned`` the product's GTIN is under the brand's prefix, as every product made
    now must be. Without it the product is :data:`LEGACY_GTIN`, stored as products were
    before brands held prefixes (a deployment's older rows): such a product is still
    verified, traced and recalled, but gets no new links.
    """
    slug = f"brand-{secrets.token_hex(4)}"
    prefix = fresh_prefix()
    with sessions.begin() as session:
        brand = catalog.create_brand(session, slug, f"Brand {slug}", "https://tm.example.com")
        # held as set up by hand, not claimed: the claim's audit entry is no test's concern
        session.add(BrandPrefix(brand_id=brand.id, prefix=prefix))
        session.flush()
        if owned:
            product = catalog.create_product(session, brand, gtin_under(prefix), "Olive oil 1 l")
        else:
            product = Product(brand_id=brand.id, gtin=LEGACY_GTIN, name="Olive oil 1 l", texts={})
            session.add(product)
            session.flush()
        batch = catalog.create_batch(session, product, lot)
        key = keystore.create_key(session, brand, PASSPHRASE)
        return DemoBrand(brand, product, batch, key.kid, prefix)


def forge(url: str) -> str:
    """``url`` with one character of its signature changed: always a bad signature.

    The character changed sits mid-signature, so the result stays canonical base32 (the
    last characters carry padding bits, and the end of an Ed25519 signature is often
    zero bits, so overwriting the tail with "A"s can leave the code unchanged)."""
    head, signature = url.rsplit(".", 1)
    i = len(signature) // 2
    swapped = "B" if signature[i] == "A" else "A"
    return f"{head}.{signature[:i]}{swapped}{signature[i + 1 :]}"


#: A minimal PDF standing in for a test report.


def one_page_pdf(**entries) -> bytes:
    """A blank one-page PDF; ``entries`` go into its catalog (``/OpenAction`` ...)."""
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    for key, value in entries.items():
        writer.root_object[NameObject(f"/{key}")] = value
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


#: A report as stored: cleaning it again changes nothing.
PDF = clean_pdf(one_page_pdf())
JOURNEY = (
    (0, "commissioning", None),
    (30, "shipping", "Valencia port"),
    (90, "customs", "Rotterdam"),
)


def furnish(
    session: Session,
    batch: Batch,
    *,
    stories: dict[str, tuple[str, str]] | None = None,
    report: tuple[str, str] = ("Pesticide screen", "Lab SA"),
    journey=JOURNEY,
) -> None:
    """Give ``batch`` what a consumer page shows: contact, origin, production date,
    published stories, a test report and a journey."""
    brand = batch.product.brand
    brand.contact_url = "mailto:quality@example.com"
    site = catalog.create_site(session, brand, "Jaén mill", region="Andalusia", country="ES")
    batch.site_id = site.id
    batch.production_date = dt.date(2026, 10, 1)
    stories = stories or {"en": ("Harvest 2026", "Picked in October.")}
    for locale, (title, body) in stories.items():
        content.add_story(session, batch, locale, title, body, publish=True)
    title, issuer = report
    content.attach_document(
        session, batch, title, PDF, filename="report.pdf", issuer=issuer, publish=True
    )
    start = dt.datetime(2026, 10, 2, tzinfo=dt.UTC)
    for hours, step, place in journey:
        when = start + dt.timedelta(hours=hours)
        trace.record_event(
            session, batch, step, when, site=site if place is None else None, place=place
        )
    session.flush()


@pytest.fixture
def idle_queue(db: Database) -> None:
    """No other test's issuance job, label render or key request waits in the shared
    queue."""
    from sqlalchemy import update

    from tracemark.models import IssuanceJob, JobStatus, KeyRequest, KeyRequestStatus, LabelRender

    with db.sessions.begin() as session:
        for model in (IssuanceJob, LabelRender):
            waiting = model.status.in_([JobStatus.PENDING, JobStatus.RUNNING])
            session.execute(update(model).where(waiting).values(status=JobStatus.FAILED))
        session.execute(
            update(KeyRequest)
            .where(KeyRequest.status == KeyRequestStatus.PENDING)
            .values(status=KeyRequestStatus.FAILED)
        )


@pytest.fixture
def demo(db: Database) -> DemoBrand:
    return make_brand(db.sessions)


@pytest.fixture
def settings(db: Database) -> Settings:
    return Settings(
        database_url=db.url,
        secret_key="test",
        key_passphrase=PASSPHRASE,
        pin_secret="test-pin-secret",
    )


@pytest.fixture
def app(settings: Settings) -> Iterator[Flask]:
    app = create_app(settings, {"TESTING": True})
    yield app
    close(app)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch) -> None:
    """Argon2id with tiny costs for every test: the same code paths, a fraction of the
    time. Tests of the hasher itself set their own."""
    monkeypatch.setattr(
        accounts, "hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    )


@pytest.fixture(scope="module")
def browser():
    """Debian's headless Chromium through Playwright, one per test module."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("the playwright package is not installed (pip install -e '.[test]')")
    if not CHROMIUM.is_file() or not os.access(CHROMIUM, os.X_OK):
        unavailable(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def server(app) -> Iterator[str]:
    """The app behind werkzeug's threaded WSGI server on a free local port."""
    httpd = make_server(HOST, 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, name="portal-server", daemon=True)
    thread.start()
    yield f"http://{HOST}:{httpd.server_port}"
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=5)
