import time

from sqlalchemy import select

from tracemark import catalog, demo
from tracemark.accounts import users as accounts
from tracemark.codes import issuance
from tracemark.codes.pins import brand_pin_key, pin_for
from tracemark.codes.verify import Identity, check_url
from tracemark.config import Settings
from tracemark.db import make_engine, make_sessionmaker
from tracemark.labels import renders as label_renders
from tracemark.models import (
    Batch,
    BatchStatus,
    Brand,
    IssuanceJob,
    JobStatus,
    LabelRender,
    OutboxMessage,
    Role,
)
from tracemark.quality import checkpoints, rules
from tracemark.trace import capture


def test_demo_setup_is_genuine_and_idempotent(tmp_path):
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'demo.db'}", demo=True)
    first = demo.setup(settings, "http://127.0.0.1:5000")
    assert first.sample_url.startswith("HTTP://127.0.0.1:5000/01/09506000134352/10/L2401A/21/")
    again = demo.setup(settings, "http://127.0.0.1:5000")
    assert again.sample_url == first.sample_url
    engine = make_engine(settings.database_url)
    with make_sessionmaker(engine)() as session:
        check = check_url(session, first.sample_url)
        assert check.identity is Identity.GENUINE
        key = brand_pin_key(settings.require_pin_secret(), check.facts.brand_id)
        assert first.sample_pin == pin_for(key, check.code.serial)
        owner = accounts.authenticate(session, first.owner_email, first.owner_password)
        assert owner is not None
        assert accounts.role_in(session, owner, check.facts.brand_id) is Role.OWNER
        brand = session.get_one(Brand, check.facts.brand_id)
        assert len(checkpoints.templates(session, brand, active_only=True)) == 5
    engine.dispose()


def test_the_demo_rule_holds_a_batch_that_fails_its_quality_check(tmp_path):
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'demo.db'}", demo=True)
    demo.setup(settings, "http://127.0.0.1:5000")
    engine = make_engine(settings.database_url)
    inspection = {
        "type": "ObjectEvent",
        "eventID": "urn:uuid:demo-qc",
        "eventTime": "2026-10-15T08:00:00Z",
        "eventTimeZoneOffset": "+00:00",
        "action": "OBSERVE",
        "bizStep": "inspecting",
        "disposition": "non_conformant",
        "quantityList": [{"epcClass": "urn:epc:class:lgtin:9506000.013435.L2401A"}],
        "tm:qc": [{"test": "peroxide", "result": "fail", "value": 25}],
    }
    with make_sessionmaker(engine).begin() as session:
        brand = catalog.get_brand(session, demo.DEMO_SLUG)
        (rule,) = rules.rules_of(session, brand)
        assert rule.name == "QC failed → hold the batch and notify purchasing" and rule.enabled
        capture.capture_event(session, brand, inspection)
        assert catalog.find_batch(session, brand, demo.DEMO_LOT).status is BatchStatus.ON_HOLD
        messages = session.scalars(select(OutboxMessage.recipient)).all()
        assert messages == ["purchasing@olive-oil.example"]
    engine.dispose()


def _eventually(check, seconds: float = 30.0):
    """``check()``'s first truthy value, polled until ``seconds`` have passed."""
    deadline = time.monotonic() + seconds
    while not (value := check()) and time.monotonic() < deadline:
        time.sleep(0.1)
    return value


def test_the_demo_worker_runs_what_the_admin_app_queues(tmp_path):
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'demo.db'}", demo=True, label_dir=tmp_path / "labels"
    )
    demo.setup(settings, "http://127.0.0.1:5000")
    sessions = make_sessionmaker(make_engine(settings.database_url))
    with sessions.begin() as session:
        batch = session.scalar(select(Batch).where(Batch.lot == demo.DEMO_LOT))
        job_id = issuance.create_job(session, batch, 7).id
    stop = demo.start_worker(settings)
    try:

        def job_done():
            with sessions() as session:
                return session.get_one(IssuanceJob, job_id).status is JobStatus.DONE

        assert _eventually(job_done)
        with sessions.begin() as session:
            job = session.get_one(IssuanceJob, job_id)
            render_id = label_renders.request_render(session, job, "csv", settings.label_dir)[0].id

        def label_file():
            with sessions() as session:
                render = session.get_one(LabelRender, render_id)
                return label_renders.file_path(settings.label_dir, render)

        path = _eventually(label_file)
    finally:
        stop.set()
    assert path is not None and len(path.read_text().splitlines()) == 8  # header + 7 codes


def test_the_demo_product_resolves_to_its_links(tmp_path):
    from tracemark.app import close, create_app

    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'demo.db'}", demo=True, secret_key="test"
    )
    demo.setup(settings, "http://127.0.0.1:5000")
    app = create_app(settings, {"TESTING": True})
    client = app.test_client()
    gtin, lot = "09506000134352", "L2401A"
    pip = client.get(f"/01/{gtin}")
    assert pip.status_code == 307 and pip.headers["Location"].endswith("/extra-virgin-1l")
    context = client.get(f"/01/{gtin}/10/{lot}?linkType=linkset").get_json()["linkset"][0]
    voc = "https://gs1.org/voc/"
    assert len(context[voc + "certificationInfo"]) == 2  # the brand's and the test report
    assert context[voc + "recallStatus"][0]["href"].endswith(f"/recall-status/01/{gtin}/10/{lot}")
    assert voc + "safetyInfo" not in context  # for regulators only
    close(app)
