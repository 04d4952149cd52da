"""``tracemark brand|product|batch``: the catalog from the command line."""

from __future__ import annotations

import click

from tracemark import catalog
from tracemark.audit import CLI
from tracemark.cli.base import Context, echo_row, find_brand, find_product, main, pass_ctx
from tracemark.scanning import risk


@main.group()
def brand() -> None:
    """Brands (tenants)."""


@brand.command("create")
@click.argument("slug")
@click.argument("name")
@click.option("--resolver", help="Origin printed in label URLs, e.g. https://tm.example.com")
@pass_ctx
def brand_create(ctx: Context, slug: str, name: str, resolver: str | None) -> None:
    with ctx.sessions.begin() as session:
        catalog.create_brand(session, slug, name, resolver, actor=CLI)
    click.echo(f"brand {slug} created")


@brand.command("prefix")
@click.argument("slug")
@click.argument("prefix")
@pass_ctx
def brand_prefix(ctx: Context, slug: str, prefix: str) -> None:
    """Record a GS1 company prefix the brand holds; its new GTINs must fall under one."""
    with ctx.sessions.begin() as session:
        try:
            catalog.claim_prefix(session, find_brand(session, slug), prefix, actor=CLI)
        except catalog.PrefixProblem as exc:
            raise click.BadParameter(str(exc), param_hint="PREFIX") from exc
    click.echo(f"brand {slug} holds prefix {prefix}")


@brand.command("risk")
@click.argument("slug")
@click.argument("settings", nargs=-1)
@click.option("--reset", is_flag=True, help="Back to the defaults.")
@pass_ctx
def brand_risk(ctx: Context, slug: str, settings: tuple[str, ...], reset: bool) -> None:
    """Show or set the brand's clone-risk thresholds, e.g. `places=10`."""
    pairs = dict(setting.partition("=")[::2] for setting in settings)
    try:
        overrides = risk.policy_overrides(pairs)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="SETTINGS") from exc
    with ctx.sessions.begin() as session:
        the_brand = find_brand(session, slug)
        stored = catalog.set_risk_policy(session, the_brand, overrides, reset=reset, actor=CLI)
        policy = risk.RiskPolicy.from_overrides(stored)
    for name, value in vars(policy).items():
        echo_row(name, value)


@main.group()
def product() -> None:
    """Products (GTINs)."""


@product.command("create")
@click.option("--brand", "brand_slug", required=True)
@click.argument("gtin")
@click.argument("name")
@pass_ctx
def product_create(ctx: Context, brand_slug: str, gtin: str, name: str) -> None:
    with ctx.sessions.begin() as session:
        try:
            created = catalog.create_product(
                session, find_brand(session, brand_slug), gtin, name, actor=CLI
            )
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="GTIN") from exc
        click.echo(f"product {created.gtin} created")


@main.group()
def batch() -> None:
    """Batches (lots)."""


@batch.command("create")
@click.option("--brand", "brand_slug", required=True)
@click.option("--gtin", required=True)
@click.argument("lot")
@pass_ctx
def batch_create(ctx: Context, brand_slug: str, gtin: str, lot: str) -> None:
    with ctx.sessions.begin() as session:
        found = find_product(session, find_brand(session, brand_slug), gtin)
        try:
            catalog.create_batch(session, found, lot, actor=CLI)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="LOT") from exc
    click.echo(f"batch {lot} created")


# -- keys ------------------------------------------------------------------------------------
