"""The demo brand: a working setup on the embedded database in one command."""

from __future__ import annotations

import datetime as dt
import io
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, replace

from PIL import Image, ImageDraw
from pypdf import PdfWriter
from sqlalchemy import select
from sqlalchemy.orm import Session

from tracemark import catalog, demo_history, migrate
from tracemark import worker as jobs
from tracemark.accounts import users as accounts
from tracemark.codes import issuance, keystore
from tracemark.codes.pins import brand_pin_key
from tracemark.codes.printing import batch_urls
from tracemark.config import Settings
from tracemark.content import images
from tracemark.content import stories as content
from tracemark.db import make_engine, make_sessionmaker
from tracemark.labels.renders import RenderOptions
from tracemark.models import Audience, Batch, Brand, IssuanceJob, JobStatus, PublishState, Role
from tracemark.notify import outbox
from tracemark.quality import checkpoints, rules
from tracemark.reporting import board_rollup, rollups
from tracemark.reporting.watermark import SETTLE
from tracemark.resolver import links as resolver_links
from tracemark.trace import events as trace

DEMO_SLUG = "demo"
DEMO_GTIN = "09506000134352"
#: The demo brand's GS1 company prefix (GS1's own example range).
DEMO_PREFIX = "9506000"
DEMO_LOT = "L2401A"
DEMO_CODES = 1_000
#: A failed quality check holds the batch and tells purchasing (e-mails wait in the outbox
#: until TRACEMARK_SMTP_URL is set).
DEMO_RULE = rules.RuleSpec(
    "QC failed → hold the batch and notify purchasing",
    "failed",
    [
        {"type": "hold_batch"},
        {"type": "notify", "roles": [], "emails": ["purchasing@olive-oil.example"]},
    ],
)
#: The demo's owner account: fixed, printed, for a local demo only.
DEMO_OWNER = ("owner@demo.example", "tracemark-demo-owner")

_STORIES = {
    "en": (
        "Harvest 2026",
        "Picked in October from hundred-year-old **Picual** trees.\n\n"
        "Cold-pressed within six hours at our mill in Jaén:\n\n"
        "- washed and milled the same morning\n- malaxed below 27 °C\n- filtered, never heated",
    ),
    "es": (
        "Cosecha 2026",
        "Recogida en octubre de olivos Picual centenarios.\n\n"
        "Prensada en frío en menos de seis horas en nuestra almazara de Jaén.",
    ),
    "fr": (
        "Récolte 2026",
        "Cueillie en octobre sur des oliviers Picual centenaires.\n\n"
        "Pressée à froid en moins de six heures dans notre moulin de Jaén.",
    ),
}
_NAMES = {
    "es": "Aceite de oliva virgen extra, 1 l",
    "fr": "Huile d'olive vierge extra, 1 l",
    "de": "Natives Olivenöl extra, 1 l",
    "zh_Hans": "特级初榨橄榄油 1 升",
    "ja": "エクストラバージンオリーブオイル 1 L",
    "pt": "Azeite virgem extra, 1 l",
    "ar": "زيت زيتون بكر ممتاز، 1 لتر",
}
_JOURNEY = (
    (0, "commissioning", None, None),
    (20, "inspecting", None, None),
    (48, "shipping", "Port of Valencia", "ES"),
    (200, "customs", "Port of Rotterdam", "NL"),
    (230, "receiving", "Distribution centre Venlo", "NL"),
    (300, "retail_selling", "Delicatessen, Cologne", "DE"),
)


def _report() -> bytes:
    """A blank A4 page standing in for a laboratory report."""
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _bottle() -> bytes:
    """A drawn product picture (PNG), so the demo needs no image files."""
    picture = Image.new("RGB", (480, 360), (244, 241, 230))
    draw = ImageDraw.Draw(picture)
    draw.rounded_rectangle((200, 110, 280, 330), radius=18, fill=(86, 104, 36))
    draw.rectangle((224, 40, 256, 115), fill=(86, 104, 36))
    draw.rectangle((220, 28, 260, 48), fill=(160, 30, 30))
    draw.rectangle((205, 190, 275, 260), fill=(236, 224, 180))
    out = io.BytesIO()
    picture.save(out, "PNG")
    return out.getvalue()


@dataclass(frozen=True)
class DemoResult:
    brand_name: str
    lot: str
    codes: int
    sample_url: str
    sample_pin: str | None
    owner_email: str
    owner_password: str


def demo_settings(base_url: str, env: Mapping[str, str] | None = None) -> Settings:
    """The demo's settings: from the environment in demo mode, with the public address
    the demo serves (``base_url``) unless ``TRACEMARK_PUBLIC_BASE_URL`` names another, so
    the labels made in its admin app open the demo that made them."""
    env = os.environ if env is None else env
    settings = Settings.from_env(dict(env), demo=True)
    if env.get("TRACEMARK_PUBLIC_BASE_URL"):
        return settings
    return replace(settings, public_base_url=base_url)


def setup(settings: Settings, base_url: str) -> DemoResult:
    """Create (once) the demo brand and everything a consumer can see; return a sample."""
    engine = make_engine(settings.database_url)
    migrate.migrate_to(engine)
    sessions = make_sessionmaker(engine)
    passphrase = settings.require_key_passphrase()
    with sessions.begin() as session:
        if session.scalar(select(Brand).where(Brand.slug == DEMO_SLUG)) is None:
            _create(session, passphrase)
        brand = catalog.get_brand(session, DEMO_SLUG)
        checkpoints.seed_standard(session, brand)  # the standard checkpoints, to record from
        batch = catalog.find_batch(session, brand, DEMO_LOT)
        job = session.scalar(select(IssuanceJob).where(IssuanceJob.batch_id == batch.id))
        batch_id, brand_id, job_id = batch.id, brand.id, job.id if job else None
        job_done = job is not None and job.status is JobStatus.DONE
    if job_id is None:
        issuance.issue(sessions, batch_id, DEMO_CODES, passphrase, with_pin=True)
    elif not job_done:
        issuance.run_job(sessions, job_id, passphrase)
    _history(sessions, brand_id, batch_id, passphrase)
    pin_key = brand_pin_key(settings.require_pin_secret(), brand_id)
    with sessions() as session:
        batch = session.get_one(Batch, batch_id)
        _serial, sample, pin = next(batch_urls(session, batch, base_url, pin_key))
        brand_name = batch.product.brand.name
    engine.dispose()
    return DemoResult(brand_name, DEMO_LOT, DEMO_CODES, sample, pin, *DEMO_OWNER)


def _history(sessions, brand_id: int, batch_id: int, passphrase: str) -> None:
    """Write the demo's past once (:mod:`tracemark.demo_history`) and bring every board
    up to date with it, so the first look at the admin app tells a story."""
    today = dt.datetime.now(dt.UTC).date()
    with sessions.begin() as session:
        brand = session.get_one(Brand, brand_id)
        if demo_history.seeded(session, brand):
            return
        lots = demo_history.seed_batches(session, session.get_one(Batch, batch_id), today)
    for lot, count in demo_history.ISSUED_PAST.items():
        issuance.issue(sessions, lots[lot], count, passphrase, workers=1)
    with sessions.begin() as session:
        brand, batch = session.get_one(Brand, brand_id), session.get_one(Batch, batch_id)
        demo_history.seed(session, brand, batch, lots, today)
    # nothing else writes while the demo sets up: no need to wait for stragglers; the
    # past's claims are older than the recent ones a rollup recounts
    roll_up(sessions, settle=dt.timedelta(0), all_claims=True)


def roll_up(sessions, settle: dt.timedelta = SETTLE, all_claims: bool = False) -> None:
    """The boards' rollups (scan analytics, quality and supply chain), as the worker runs
    them when idle."""
    rollups.roll_up(sessions, settle=settle, all_claims=all_claims)
    board_rollup.roll_up(sessions, settle=settle)


def start_worker(settings: Settings) -> threading.Event:
    """Run the worker (``tracemark worker``) in a daemon thread of this process, so that
    issuing codes, preparing labels, sending rule messages and updating the boards work
    in the demo.

    Set the returned event to stop it after its current task.
    """
    sessions = make_sessionmaker(make_engine(settings.database_url))
    stop = threading.Event()
    transports = outbox.Transports.from_settings(settings)
    name = jobs.worker_name()
    thread = threading.Thread(
        target=jobs.run_worker,
        args=(sessions, settings.require_key_passphrase()),
        kwargs={
            "stop": stop,
            "renders": RenderOptions.from_settings(settings),
            "deliver": lambda: outbox.deliver(sessions, transports, name).attempted,
            # the boards say "brought up to date every few minutes": so they are
            "idle": lambda: roll_up(sessions),
        },
        name="tracemark-worker",
        daemon=True,
    )
    thread.start()
    return stop


#: The demo product's resolver links (its recall status and test report come built in).
_LINKS = (
    resolver_links.LinkData(
        link_type="gs1:pip",
        target="https://olive-oil.example/products/extra-virgin-1l",
        titles={"en": "Product information", "es": "Información del producto"},
        hreflang="en",
        media_type="text/html",
        is_default=True,
    ),
    resolver_links.LinkData(
        link_type="gs1:certificationInfo",
        target="https://olive-oil.example/certificates/organic-2026",
        titles={"en": "Organic certificate", "es": "Certificado ecológico"},
        media_type="text/html",
    ),
    resolver_links.LinkData(
        link_type="gs1:safetyInfo",
        target="https://olive-oil.example/authorities/dossier",
        titles={"en": "Safety dossier for authorities"},
        media_type="text/html",
        audience=Audience.REGULATOR,
    ),
)


def _create(session: Session, passphrase: str) -> None:
    brand = catalog.create_brand(session, DEMO_SLUG, "Demo Olive Oil Co.")
    brand.contact_url = "mailto:quality@olive-oil.example"
    site = catalog.create_site(
        session,
        brand,
        "Jaén mill",
        region="Andalusia",
        country="ES",
        latitude=37.77,
        longitude=-3.79,
    )
    catalog.claim_prefix(session, brand, DEMO_PREFIX)
    product = catalog.create_product(session, brand, DEMO_GTIN, "Extra virgin olive oil, 1 l")
    product.texts = {locale: {"name": name} for locale, name in _NAMES.items()}
    batch = catalog.create_batch(
        session,
        product,
        DEMO_LOT,
        production_date=dt.date(2026, 10, 14),
        expiry_date=dt.date(2028, 4, 30),
        site=site,
        line="Line 2",
    )
    for locale, (title, body) in _STORIES.items():
        content.add_story(session, batch, locale, title, body, publish=True)
    picture = images.add_image(session, product, _bottle(), "A one-litre bottle of olive oil")
    images.set_state(picture, PublishState.PUBLISHED)
    start = dt.datetime(2026, 10, 14, 8, tzinfo=dt.UTC)
    for hours, step, place, country in _JOURNEY:
        trace.record_event(
            session,
            batch,
            step,
            start + dt.timedelta(hours=hours),
            site=site if place is None else None,
            place=place,
            country=country,
        )
    content.attach_document(
        session,
        batch,
        "Pesticide residue screen",
        _report(),
        filename="pesticide-screen.pdf",
        issuer="Laboratorio Agroalimentario de Jaén",
        issued_on=dt.date(2026, 10, 20),
        publish=True,
    )
    for link in _LINKS:
        resolver_links.add_link(session, product, link)
    keystore.create_key(session, brand, passphrase)
    rules.create_rule(session, brand, DEMO_RULE)
    email, password = DEMO_OWNER
    owner = accounts.create_user(session, email, password, "Demo owner")
    accounts.grant(session, owner, brand, Role.OWNER)
