import threading

import pytest
from sqlalchemy import func, select

from signing.keyring import KeyStatus
from tests.conftest import PASSPHRASE, make_brand
from tracemark import worker as jobs
from tracemark.codes import issuance, key_requests, keystore
from tracemark.models import AuditLog, Brand, KeyRequest, KeyRequestStatus, SigningKey


def _request(db, brand_id: int) -> int:
    with db.sessions.begin() as session:
        return key_requests.request_key(session, session.get_one(Brand, brand_id), None).id


def test_a_request_waits_once_per_brand_and_is_audited(db, idle_queue):
    demo = make_brand(db.sessions)
    with db.sessions() as session:
        setup = session.scalar(select(func.max(AuditLog.id)))  # the brand's own making
    first = _request(db, demo.brand.id)
    with pytest.raises(key_requests.AlreadyRequested):
        _request(db, demo.brand.id)
    with db.sessions() as session:
        rows = session.scalars(select(KeyRequest).where(KeyRequest.brand_id == demo.brand.id))
        assert [(r.id, r.status) for r in rows] == [(first, KeyRequestStatus.PENDING)]
        actions = session.scalars(
            select(AuditLog.action).where(AuditLog.brand_id == demo.brand.id, AuditLog.id > setup)
        ).all()
        assert actions == ["key.request"]


def test_the_worker_makes_the_key_retires_the_old_one_and_a_new_request_may_follow(db, idle_queue):
    demo = make_brand(db.sessions)
    request_id = _request(db, demo.brand.id)
    done = key_requests.fulfil_next(db.sessions, PASSPHRASE)
    assert done is not None and done.id == request_id and done.status is KeyRequestStatus.DONE
    assert key_requests.fulfil_next(db.sessions, PASSPHRASE) is None
    with db.sessions() as session:
        brand = session.get_one(Brand, demo.brand.id)
        new = session.get_one(SigningKey, done.key_id)
        old = keystore.get_key(session, demo.kid)
        assert (new.status, old.status) == (KeyStatus.ACTIVE, KeyStatus.RETIRED)
        assert keystore.active_key(session, brand).kid == new.kid
        keystore.private_key_of(new, PASSPHRASE)  # encrypted under the worker's passphrase
        created = session.scalars(
            select(AuditLog).where(
                AuditLog.action == "key.create", AuditLog.object_id == str(new.id)
            )
        ).one()
        assert created.details == {"kid": new.kid, "purpose": "code", "request": request_id}
        assert (created.brand_id, created.actor) == (brand.id, "system")
    # the new key signs what is issued next
    job = issuance.issue(db.sessions, demo.batch.id, 3, PASSPHRASE)
    with db.sessions() as session:
        assert session.get_one(type(job), job.id).signing_key_id == new.id
    assert _request(db, demo.brand.id) != request_id


def test_run_worker_fulfils_requests_before_anything_else(db, idle_queue):
    demo = make_brand(db.sessions)
    _request(db, demo.brand.id)
    finished = jobs.run_worker(db.sessions, PASSPHRASE, once=True)
    assert finished == 1
    with db.sessions() as session:
        status = session.scalar(
            select(KeyRequest.status).where(KeyRequest.brand_id == demo.brand.id)
        )
        assert status is KeyRequestStatus.DONE


@pytest.mark.parametrize("db", ["postgresql"], indirect=True)  # SKIP LOCKED row locks
def test_two_workers_racing_make_one_key_per_request(db, idle_queue):
    brands = [make_brand(db.sessions) for _ in range(3)]
    for demo in brands:
        _request(db, demo.brand.id)
    barrier = threading.Barrier(4)
    handled: list[int] = []

    def work() -> None:
        barrier.wait()
        while (done := key_requests.fulfil_next(db.sessions, PASSPHRASE)) is not None:
            handled.append(done.id)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(handled) == len(set(handled)) == 3
    with db.sessions() as session:
        ids = [demo.brand.id for demo in brands]
        keys = session.scalar(
            select(func.count()).select_from(SigningKey).where(SigningKey.brand_id.in_(ids))
        )
        assert keys == 6  # each brand's first key and exactly one new one
