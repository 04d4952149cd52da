"""The admin app's routes as the route walk sees them (``tests/admin/test_route_walk.py``):
who may read and write through each, the values of their URL parameters, and a world of
objects for those values to name; the accessibility check walks the same pages."""

from __future__ import annotations

import io
import secrets
from dataclasses import dataclass

from PIL import Image
from sqlalchemy import select
from werkzeug.routing import Rule

from tests.conftest import PASSPHRASE, PDF, make_brand
from tests.helpers.admin import PASSWORD, login
from tracemark.accounts import tokens as api_tokens
from tracemark.accounts import users as accounts
from tracemark.codes import issuance
from tracemark.codes.printing import batch_urls
from tracemark.content import images
from tracemark.content import stories as content
from tracemark.models import IssuanceJob, MessageKind, MessageStatus, Role, Unit
from tracemark.notify import outbox
from tracemark.quality import checkpoints, recording, rules
from tracemark.reporting import forgery
from tracemark.resolver.links import LinkData, add_link
from tracemark.trace import supply

MEMBERS = ("owner", "staff", "marketing", "regulator")
EVERYONE = (*MEMBERS, "outsider", "anonymous")
EDITORS = frozenset({"owner", "staff"})
READERS = frozenset(MEMBERS)
OWNERS = frozenset({"owner"})
ANALYSTS = frozenset({"owner", "staff", "marketing"})  # regulators see provenance, not these
TRACERS = frozenset({"owner", "staff", "regulator"})  # the supply chain is provenance


@dataclass(frozen=True)
class Access:
    """Roles of the brand a route admits: to read it (GET) and to write through it (POST)."""

    read: frozenset[str] = frozenset()
    write: frozenset[str] = frozenset()
    #: What an admitted read may answer (a file not prepared yet is a 409, say).
    read_ok: frozenset[int] = frozenset({200})


#: Brand routes (``/admin/brands/<slug>/…``), by endpoint.
ACCESS: dict[str, Access] = {
    "admin.audit_log": Access(read=OWNERS),
    "admin.sites": Access(read=READERS, write=EDITORS),
    "admin.products": Access(read=READERS, write=EDITORS),
    "admin.product": Access(read=READERS, write=EDITORS),
    "admin.batches": Access(read=READERS, write=EDITORS),
    "admin.batch": Access(read=READERS),
    "admin.update_batch": Access(write=EDITORS),
    "admin.batch_status": Access(write=EDITORS),
    "admin.keys": Access(read=READERS),
    "admin.retire_key": Access(write=OWNERS),
    "admin.revoke_key": Access(write=OWNERS),
    "admin.request_key": Access(write=OWNERS),
    "admin.issue_codes": Access(write=EDITORS),
    "admin.resume_job": Access(write=EDITORS),
    "admin.batch_progress": Access(read=READERS),
    "admin.prepare_labels": Access(write=EDITORS),
    "admin.download_labels": Access(read=EDITORS, read_ok=frozenset({200, 409})),
    "admin.story": Access(read=READERS, write=EDITORS),
    "admin.story_state": Access(write=EDITORS),
    "admin.story_preview": Access(read=READERS),
    "admin.batch_image": Access(write=EDITORS),
    "admin.product_image": Access(write=EDITORS),
    "admin.image_state": Access(write=EDITORS),
    "admin.document_upload": Access(write=EDITORS),
    "admin.document_state": Access(write=EDITORS),
    "admin.document_download": Access(read=READERS),
    "admin.brand_provenance": Access(read=READERS),
    "admin.product_provenance": Access(read=READERS),
    "admin.statement": Access(read=READERS),
    "admin.audit_export_file": Access(read=OWNERS),
    "admin.analytics_board": Access(read=ANALYSTS),
    "admin.analytics_csv": Access(read=ANALYSTS),
    "admin.suppliers": Access(read=TRACERS, write=EDITORS),
    "admin.material_lots": Access(read=TRACERS, write=EDITORS),
    "admin.material_lot": Access(read=TRACERS),
    "admin.lot_status": Access(write=EDITORS),
    "admin.trace_search_page": Access(read=TRACERS),
    "admin.trace_unit": Access(read=TRACERS),
    "admin.trace_batch": Access(read=TRACERS),
    "admin.trace_batch_forward": Access(read=TRACERS),
    "admin.trace_lot": Access(read=TRACERS),
    "admin.lot_recall": Access(read=TRACERS),
    "admin.lot_recall_csv": Access(read=TRACERS),
    "admin.lot_recall_pdf": Access(read=TRACERS),
    "admin.lot_recall_hold": Access(write=OWNERS),
    "admin.quality_board": Access(read=EDITORS),  # production figures: not marketing's
    "admin.quality_csv": Access(read=EDITORS),
    "admin.supply_chain_board": Access(read=EDITORS),
    "admin.supply_chain_csv": Access(read=EDITORS),
    "admin.rules_list": Access(read=EDITORS, write=EDITORS),
    "admin.rules_language": Access(write=EDITORS),
    "admin.rule": Access(read=EDITORS, write=EDITORS),
    "admin.rule_state": Access(write=EDITORS),
    "admin.delete_rule": Access(write=EDITORS),
    "admin.rule_activity": Access(read=EDITORS),
    "admin.retry_message": Access(write=EDITORS),
    "admin.checkpoint_templates": Access(read=READERS, write=EDITORS),
    "admin.seed_checkpoints": Access(write=EDITORS),
    "admin.checkpoint": Access(read=READERS, write=EDITORS),
    "admin.checkpoint_field": Access(write=EDITORS),
    "admin.checkpoint_field_action": Access(write=EDITORS),
    "admin.checkpoint_active": Access(write=EDITORS),
    # recording is production work: owners and staff only
    "admin.record": Access(read=EDITORS),
    "admin.record_post": Access(write=EDITORS),
    "admin.checkpoint_file": Access(read=READERS),
    # an empty form is refused (400): the walk only asks that owners are let in
    "admin.api_token_list": Access(read=OWNERS, write=OWNERS),
    "admin.revoke_api_token": Access(write=OWNERS),
    # resolver links: everyone reads them, owners and staff change them
    "admin.product_links": Access(read=READERS, write=EDITORS),
    "admin.delete_product_link": Access(write=EDITORS),
    "admin.edit_product_link": Access(read=EDITORS, write=EDITORS),
    "admin.default_product_link": Access(write=EDITORS),
    # the brand's GS1 company prefixes: owners only
    "admin.prefixes": Access(read=OWNERS, write=OWNERS),
    "admin.release_prefix": Access(write=OWNERS),
    # forgery reports: the brand's scan readers
    "admin.forgery_board": Access(read=ANALYSTS),
    "admin.forgery_csv": Access(read=ANALYSTS),
    "admin.forgery_photo": Access(read=ANALYSTS),
}
#: URL parameter values that differ by endpoint (each board has its own charts).
ENDPOINT_VALUES = {
    "admin.quality_csv": {"chart": "defects"},
    "admin.supply_chain_csv": {"chart": "stock"},
}
#: URL parameters that name another object (the rest, like a file format, do not).
OBJECTS = (
    "product_id",
    "batch_id",
    "kid",
    "job_id",
    "document_id",
    "image_id",
    "lot_id",
    "serial",
    "rule_id",
    "message_id",
    "key",
    "field",
    "file_id",
    "prefix",
    "link_id",
    "company_prefix",
    "report_id",
)
#: Routes outside any brand, with the status each kind of visitor gets; tested in depth
#: by test_auth (sign-in) and elsewhere, walked here so none is forgotten.
SIGNED_IN = {role: 200 for role in (*MEMBERS, "outsider")}
REFUSED_FORM = {role: 400 for role in SIGNED_IN}
ACCOUNT_ROUTES: dict[tuple[str, str], dict[str, int]] = {
    ("admin.dashboard", "GET"): {**SIGNED_IN, "anonymous": 302},
    ("admin.oversight", "GET"): {**SIGNED_IN, "anonymous": 302},  # one's own brands only
    ("admin.account", "GET"): {**SIGNED_IN, "anonymous": 302},
    # an empty form is refused with its field errors
    ("admin.change_password", "POST"): {**REFUSED_FORM, "anonymous": 302},
    ("admin.enable_second_factor", "POST"): {**REFUSED_FORM, "anonymous": 302},
    # nothing to turn off: back to the account page
    ("admin.disable_second_factor", "POST"): {**{r: 303 for r in SIGNED_IN}, "anonymous": 302},
    ("admin.login_code_form", "GET"): {role: 302 for role in EVERYONE},
    ("admin.login_code", "POST"): {role: 302 for role in EVERYONE},
    ("admin.login_form", "GET"): {**{role: 302 for role in SIGNED_IN}, "anonymous": 200},
    ("admin.login", "POST"): {role: 200 for role in EVERYONE},  # an empty form: refused
}
#: Walked last, since it ends the session.
LAST = {("admin.logout", "POST"): {**{role: 302 for role in SIGNED_IN}, "anonymous": 302}}


@dataclass
class World:
    mine: dict[str, str]
    theirs: dict[str, str]
    #: What must never show, by who asks: the other brand's slug and name.
    hidden: dict[str, tuple[str, ...]]
    emails: dict[str, str]


def make_world(db) -> World:
    """Two brands, each with a product, batch, key and issued codes; a user per role in
    the first, and an outsider who owns the second."""
    values = []
    for _ in range(2):
        demo = make_brand(db.sessions, owned=True)
        issuance.issue(db.sessions, demo.batch.id, 2, PASSPHRASE)
        with db.sessions.begin() as session:
            batch, product = session.merge(demo.batch), session.merge(demo.product)
            content.add_story(session, batch, "en", "Story", "Told.", publish=True)
            document = content.attach_document(
                session, batch, "Report", PDF, filename="report.pdf", publish=True
            )
            image = images.add_image(session, product, _png())
            supplier = supply.create_supplier(session, product.brand, "Olivar Coop", country="ES")
            lot = supply.receive_lot(session, supplier, "Olive oil", "OIL-1", gtin="09506000134352")
            serial = session.scalar(select(Unit.serial).where(Unit.batch_id == batch.id).limit(1))
            document_id, image_id, lot_id = document.id, image.id, lot.id
            rule_id, message_id = _rule_and_dead_message(session, product.brand)
            # template keys and field names are the brand's own: each brand's differ here,
            # so crossing them names nothing of mine
            key, field = f"walk-{secrets.token_hex(3)}", f"f{secrets.token_hex(3)}"
            spec = {"name": field, "type": "passfail", "label": {"en": "OK"}}
            checkpoints.create_template(
                session, batch.product.brand, key, {"en": "Walk"}, biz_step="inspecting",
                subject="batch", fields=[spec],
            )  # fmt: skip
            file_id = recording.store_file(session, batch.product.brand, PDF, field)["file"]
            token, _secret = api_tokens.create_token(
                session, session.merge(demo.brand), "ERP", ["read"]
            )
            prefix = token.prefix
            link = add_link(
                session, product, LinkData("gs1:pip", "https://walk.example", {"en": "Walk"})
            )
            link_id = link.id
            url = next(batch_urls(session, batch, "http://x"))[1]
            report_id = forgery.file_report(
                session,
                url[url.index("/01/") :],
                "not_genuine",
                city="Lyon",
                photo=_png(),
            ).id
        values.append(
            (
                {
                    "slug": demo.brand.slug,
                    "product_id": str(demo.product.id),
                    "batch_id": str(demo.batch.id),
                    "kid": demo.kid,
                    "job_id": str(_job_of(db, demo.batch.id)),
                    "fmt": "pdf",
                    "locale": "en",
                    "document_id": str(document_id),
                    "image_id": str(image_id),
                    "rule_id": str(rule_id),
                    "message_id": str(message_id),
                    "chart": "country",
                    "lot_id": str(lot_id),
                    "serial": serial,
                    "key": key,
                    "field": field,
                    "file_id": str(file_id),
                    "prefix": prefix,
                    "link_id": str(link_id),
                    "company_prefix": demo.prefix,
                    "report_id": str(report_id),
                },
                demo.brand,
            )
        )
    (mine, my_brand), (theirs, their_brand) = values
    emails = {}
    with db.sessions.begin() as session:
        for role in (*MEMBERS, "outsider"):
            email = f"{role}-{secrets.token_hex(4)}@example.com"
            user = accounts.create_user(session, email, PASSWORD, role.title())
            if role == "outsider":
                accounts.grant(session, user, their_brand, Role.OWNER)
            else:
                accounts.grant(session, user, my_brand, Role(role))
            emails[role] = email
    hidden = {role: (their_brand.slug, their_brand.name) for role in MEMBERS}
    hidden["outsider"] = (my_brand.slug, my_brand.name)
    hidden["anonymous"] = hidden["outsider"] + hidden["owner"]
    return World(mine, theirs, hidden, emails)


def _rule_and_dead_message(session, brand) -> tuple[int, int]:
    """A rule, and an outbox message that failed every attempt (so it can be retried)."""
    spec = rules.RuleSpec("QC failed", "failed", [{"type": "hold_batch"}])
    rule = rules.create_rule(session, brand, spec)
    message = outbox.enqueue(session, brand.id, None, MessageKind.EMAIL, "qa@example.com", {})
    message.status, message.dedupe_key = MessageStatus.DEAD, secrets.token_hex(32)
    session.flush()
    return rule.id, message.id


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 4), "green").save(out, "PNG")
    return out.getvalue()


def _job_of(db, batch_id: int) -> int:
    with db.sessions() as session:
        return session.scalar(select(IssuanceJob.id).where(IssuanceJob.batch_id == batch_id))


def _parameters(rule: Rule, values: dict[str, str]) -> dict[str, str]:
    unknown = rule.arguments - values.keys()
    assert not unknown, f"{rule.rule}: no test value for {sorted(unknown)}; add it to world"
    values = {**values, **ENDPOINT_VALUES.get(rule.endpoint, {})}
    return {name: values[name] for name in rule.arguments}


def path_for(rule: Rule, values: dict[str, str]) -> str:
    """The path of ``rule`` with the world's ``values`` for its parameters."""
    return rule.build(_parameters(rule, values), append_unknown=False)[1]


def admin_rules(app) -> list[tuple[Rule, str]]:
    """Every admin route with each of its methods but HEAD and OPTIONS."""
    return [
        (rule, method)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/admin")
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"})
    ]


def client_as(app, world: World, role: str):
    """A test client signed in as the world's user in ``role`` (none: anonymous)."""
    client = app.test_client()
    if role != "anonymous":
        assert login(client, world.emails[role]).status_code == 302
    return client
