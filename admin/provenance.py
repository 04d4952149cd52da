"""The regulator view: a product's origin, batches, reports and journeys, and signed
provenance statements.

Read-only by construction (GET routes only), for every member of the brand: regulators
are granted per brand like any other role. A brand the user has no role in, and another
brand's object addressed under this brand, are not found (404); the search covers the
user's own brands only.
"""

from __future__ import annotations

from flask import Response, current_app, render_template, request
from flask_babel import gettext
from flask_login import login_required

from admin import auth, forms
from admin.access import found_or_404, member_of
from admin.views import bp
from signing.keys import KeyLoadError
from tracemark import catalog
from tracemark.accounts import users as accounts
from tracemark.config import ConfigError
from tracemark.content import provenance
from tracemark.web import db_session, error_response, settings


@bp.get("/provenance")
@login_required
def oversight():
    """The user's brands, and batches found by GTIN or lot across them."""
    session = db_session()
    brands = accounts.brands_for(session, auth.signed_in_user())
    query = request.args.get("q", "")[:64].strip()
    results = provenance.search(session, brands, query) if query else []
    return render_template(
        "admin/provenance/oversight.html",
        brands=brands,
        query=query,
        results=results,
        status_names=forms.STATUS_NAMES,
    )


@bp.get("/brands/<slug>/provenance")
@login_required
def brand_provenance(slug: str):
    member = member_of(slug)
    products = catalog.products(member.session, member.brand)
    return render_template("admin/provenance/brand.html", member=member, products=products)


@bp.get("/brands/<slug>/provenance/products/<id:product_id>")
@login_required
def product_provenance(slug: str, product_id: int):
    member = member_of(slug)
    product = found_or_404(catalog.get_product, member, product_id)
    batches = [
        provenance.batch_provenance(member.session, batch)
        for batch in provenance.product_batches(member.session, product)
    ]
    origins = {batch.origin: None for batch in batches if batch.origin is not None}
    return render_template(
        "admin/provenance/product.html",
        member=member,
        product=product,
        batches=batches,
        origins=list(origins),
        status_names=forms.STATUS_NAMES,
    )


@bp.get("/brands/<slug>/provenance/batches/<id:batch_id>/statement.json")
@login_required
def statement(slug: str, batch_id: int):
    """A signed provenance statement for the batch, as a download (audited)."""
    member = member_of(slug)
    batch = found_or_404(catalog.get_batch, member, batch_id)
    try:
        issued = provenance.issue_statement(
            member.session,
            batch,
            settings().require_statement_passphrase(),
            resolver_base=request.host_url,
            actor=member.actor,
        )
    except (ConfigError, KeyLoadError) as exc:
        member.session.rollback()
        current_app.logger.error("cannot sign statements: %s", exc)
        return error_response(
            503,
            "statement_unavailable",
            gettext("Signed statements are not available on this server at the moment."),
        )
    member.session.commit()
    response = Response(issued.text, mimetype="application/json")
    filename = f"provenance-{issued.statement_id}.json"
    response.headers["Content-Disposition"] = f"attachment; filename={filename}"
    response.headers["Cache-Control"] = "no-store"
    return response
