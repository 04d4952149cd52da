import pytest
from sqlalchemy import func, select

from signing import Status, UnitCode, build_url, parse_and_verify
from tests.conftest import PASSPHRASE, make_brand
from tracemark.codes import issuance, keystore
from tracemark.models import IssuanceJob, JobStatus, Unit


def _units(db, job_id):
    with db.sessions() as session:
        return session.execute(
            select(Unit.seq, Unit.serial, Unit.signature)
            .where(Unit.job_id == job_id)
            .order_by(Unit.seq)
        ).all()


def _verify_all(db, demo, units):
    with db.sessions() as session:
        ring = keystore.load_keyring(session)
    for _seq, serial, signature in units:
        code = UnitCode(demo.product.gtin, demo.batch.lot, serial, demo.kid, signature)
        assert (
            parse_and_verify(build_url("https://tm.example.com", code), ring).status is Status.VALID
        )


def test_issued_codes_are_stored_once_each_and_verify(db, demo):
    job = issuance.issue(db.sessions, demo.batch.id, 2_500, PASSPHRASE, chunk_size=1_000)
    assert job.status is JobStatus.DONE
    units = _units(db, job.id)
    assert [u.seq for u in units] == list(range(2_500))
    assert len({u.serial for u in units}) == 2_500
    assert all(len(u.serial) == 13 for u in units)
    _verify_all(db, demo, units[:50])


def test_interrupted_job_resumes_without_loss_or_duplicates(db, demo):
    seen = []

    def stop_after_two_chunks(done, total):
        seen.append(done)
        if done >= 2_000:
            raise KeyboardInterrupt

    with db.sessions.begin() as session:
        job_id = issuance.create_job(session, session.merge(demo.batch), 5_000).id
    with pytest.raises(KeyboardInterrupt):
        issuance.run_job(
            db.sessions, job_id, PASSPHRASE, chunk_size=1_000, progress=stop_after_two_chunks
        )
    with db.sessions() as session:
        job = session.get_one(IssuanceJob, job_id)
        assert (job.status, job.issued) == (JobStatus.FAILED, 2_000)
        assert session.scalar(select(func.count()).where(Unit.job_id == job_id)) == 2_000

    job = issuance.run_job(db.sessions, job_id, PASSPHRASE, chunk_size=1_000)
    assert (job.status, job.issued) == (JobStatus.DONE, 5_000)
    units = _units(db, job_id)
    assert [u.seq for u in units] == list(range(5_000))
    assert len({u.serial for u in units}) == 5_000
    _verify_all(db, demo, units[1_990:2_010])


def test_parallel_signing_matches_inline_format(db, demo):
    job = issuance.issue(
        db.sessions, demo.batch.id, 24_000, PASSPHRASE, chunk_size=6_000, workers=2
    )
    units = _units(db, job.id)
    assert len(units) == 24_000 and len({u.serial for u in units}) == 24_000
    _verify_all(db, demo, units[::997])


def test_a_second_runner_of_the_same_job_stops_without_writing(db, demo):
    with db.sessions.begin() as session:
        job_id = issuance.create_job(session, session.merge(demo.batch), 1_000).id
    task = issuance._ChunkTask(b"prefix|", 0, 10)
    with db.sessions.begin() as session:
        session.get_one(IssuanceJob, job_id).issued = 10  # another runner got there first
    with db.sessions() as session:
        key = keystore.private_key_of(session.get_one(IssuanceJob, job_id).signing_key, PASSPHRASE)
    rows = issuance._sign(key, task)
    with pytest.raises(issuance.JobConflict):
        issuance._store_chunk(db.sessions, (demo.brand.id, demo.batch.id, job_id), task, rows, key)
    assert _units(db, job_id) == []


def test_serials_are_unique_per_brand_in_the_database(db, demo):
    job = issuance.issue(db.sessions, demo.batch.id, 10, PASSPHRASE)
    serial = _units(db, job.id)[0].serial
    other = make_brand(db.sessions)
    with db.sessions.begin() as session:
        job2 = issuance.create_job(session, session.merge(demo.batch), 1)
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError), db.sessions.begin() as session:
        session.add(
            Unit(
                brand_id=demo.brand.id,
                batch_id=demo.batch.id,
                job_id=job2.id,
                seq=0,
                serial=serial,
                signature=b"x" * 64,
            )
        )
    with db.sessions.begin() as session:  # another brand may use the same serial
        job3 = issuance.create_job(session, session.merge(other.batch), 1)
        session.add(
            Unit(
                brand_id=other.brand.id,
                batch_id=other.batch.id,
                job_id=job3.id,
                seq=0,
                serial=serial,
                signature=b"x" * 64,
            )
        )


def test_job_size_is_bounded(db, demo):
    with db.sessions.begin() as session, pytest.raises(ValueError):
        issuance.create_job(session, session.merge(demo.batch), 0)


def test_database_keeps_a_job_within_one_brand(db, demo):
    from sqlalchemy.exc import IntegrityError

    other = make_brand(db.sessions)
    with db.sessions() as session:
        foreign_key_id = keystore.get_key(session, other.kid).id
    with pytest.raises(IntegrityError), db.sessions.begin() as session:
        session.add(
            IssuanceJob(
                brand_id=demo.brand.id,
                batch_id=demo.batch.id,
                signing_key_id=foreign_key_id,
                requested=1,
            )
        )
    with pytest.raises(IntegrityError), db.sessions.begin() as session:
        session.add(
            IssuanceJob(
                brand_id=demo.brand.id,
                batch_id=other.batch.id,
                signing_key_id=keystore.get_key(session, demo.kid).id,
                requested=1,
            )
        )


def test_a_serial_collision_is_signed_again_and_stored(db, demo, monkeypatch):
    """A fresh serial that the brand already holds fails the chunk's insert (COPY on
    PostgreSQL); the chunk is signed again with new serials and stored, not failed."""
    first = issuance.issue(db.sessions, demo.batch.id, 1, PASSPHRASE)
    taken = _units(db, first.id)[0].serial
    serials = iter([taken])
    fresh = issuance.new_serial
    monkeypatch.setattr(issuance, "new_serial", lambda: next(serials, None) or fresh())
    job = issuance.issue(db.sessions, demo.batch.id, 3, PASSPHRASE, workers=1)
    assert job.status is JobStatus.DONE
    units = _units(db, job.id)
    assert [u.seq for u in units] == [0, 1, 2]
    assert taken not in {u.serial for u in units}
