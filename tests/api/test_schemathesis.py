"""Schemathesis against the integration API and the public verification API: cases
generated from each OpenAPI document (valid and invalid ones), sent through the WSGI app
(no network) with a real token, on SQLite and PostgreSQL. No answer may be a server error,
and every answer must be documented: its status, content type, headers and body schema.

The fast runs take 30 cases per operation; the ``slow`` ones bring the total, over both
documents and both databases, above 10,000 (about 7 minutes on two quiet cores: each
case costs some 40 ms, most of it in generating it).
"""

from __future__ import annotations

import secrets
from dataclasses import replace

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import select

from tests.conftest import PASSPHRASE
from tests.helpers.api import make_tenant
from tracemark.app import close, create_app
from tracemark.codes import issuance
from tracemark.models import Unit

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
MODES = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)


@pytest.fixture
def fuzz_app(settings):
    """The app with budgets no fuzzing run reaches (the 429 has its own test)."""
    app = create_app(
        replace(
            settings,
            api_rate_limit="1000000/minute",
            api_auth_failure_limit="1000000/minute",
            scan_rate_limit="1000000/minute",
        ),
        {"TESTING": True},
    )
    yield app
    close(app)


def fuzz(schema, cases: int, *, headers=None, path_parameters=None, known=None) -> int:
    """Send ``cases`` generated cases to each operation of ``schema``; returns the count.

    ``path_parameters`` are fixed in every case; ``known`` values (a real lot, job id,
    serial) are used in half the cases of an operation that takes them, so the fuzzing
    reaches past the 404 of an unknown object."""
    sent = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        fixed = dict(path_parameters or {})
        variants = [fixed]
        names = {p.name for p in operation.path_parameters}
        if known and names & set(known):
            variants.append({**fixed, **{k: v for k, v in known.items() if k in names}})
        strategy = st.one_of(
            [
                operation.as_strategy(mode, path_parameters=variant)
                for mode in MODES
                for variant in variants
            ]
        )

        @settings(
            max_examples=cases,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
            phases=[Phase.explicit, Phase.generate, Phase.shrink],
        )
        @given(case=strategy)
        def send(case):
            nonlocal sent
            sent += 1
            case.call_and_validate(headers=headers, checks=CHECKS)

        send()
    return sent


def _integration(app, db, cases: int) -> int:
    """Fuzz the integration API as one brand with a token holding every scope."""
    tenant = make_tenant(db.sessions, lot=f"FZ{secrets.token_hex(3)}")
    job = issuance.issue(db.sessions, tenant.demo.batch.id, 2, PASSPHRASE)
    with db.sessions() as session:
        serial = session.scalar(select(Unit.serial).where(Unit.job_id == job.id).limit(1))
    schema = schemathesis.openapi.from_wsgi("/api/v1/integration/openapi.yaml", app)
    return fuzz(
        schema,
        cases,
        headers=tenant.headers(),
        path_parameters={"slug": tenant.slug},
        known={"lot": tenant.demo.batch.lot, "job_id": job.id, "serial": serial},
    )


def _portal(app, cases: int) -> int:
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.yaml", app)
    return fuzz(schema, cases)


#: Cases per operation: the fast runs (every test run), and the slow ones, sized so the
#: total over both documents and both databases passes 10,000. Operations without
#: parameters (the documents themselves, the key set) have one possible request, so the
#: counts come from the nine integration and two verify operations.
FAST, SLOW_INTEGRATION, SLOW_PORTAL = 12, 400, 700


def test_integration_api_survives_fuzzing(fuzz_app, db):
    assert _integration(fuzz_app, db, FAST) >= 9 * FAST


def test_portal_api_survives_fuzzing(fuzz_app):
    assert _portal(fuzz_app, FAST) >= 2 * FAST


@pytest.mark.slow
def test_integration_api_survives_long_fuzzing(fuzz_app, db):
    sent = _integration(fuzz_app, db, SLOW_INTEGRATION)
    print(f"integration API ({db.name}): {sent} cases")
    assert sent >= 9 * SLOW_INTEGRATION


@pytest.mark.slow
def test_portal_api_survives_long_fuzzing(fuzz_app):
    sent = _portal(fuzz_app, SLOW_PORTAL)
    print(f"verification API: {sent} cases")
    assert sent >= 2 * SLOW_PORTAL
