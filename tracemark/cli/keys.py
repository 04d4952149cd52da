"""``tracemark keys``: signing keys (create, list, retire, revoke, export, rewrap)."""

from __future__ import annotations

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from signing import KeyPurpose
from tracemark.audit import CLI
from tracemark.cli.base import (
    Context,
    echo_row,
    find_brand,
    key_passphrase,
    main,
    pass_ctx,
    statement_passphrase,
)
from tracemark.codes import keystore
from tracemark.models import Brand, SigningKey


@main.group()
def keys() -> None:
    """Signing keys: create (and rotate), list, retire, revoke, export."""


@keys.command("create")
@click.option("--brand", "brand_slug", required=True)
@click.option(
    "--purpose",
    type=click.Choice([purpose.value for purpose in KeyPurpose]),
    default=KeyPurpose.CODE.value,
    show_default=True,
    help="code: signs unit codes; statement: signs provenance statements.",
)
@pass_ctx
def keys_create(ctx: Context, brand_slug: str, purpose: str) -> None:
    """Create a key; the brand's previous active key of that purpose is retired."""
    purpose = KeyPurpose(purpose)
    passphrase = key_passphrase(ctx) if purpose is KeyPurpose.CODE else statement_passphrase(ctx)
    with ctx.sessions.begin() as session:
        the_brand = find_brand(session, brand_slug)
        key = keystore.create_key(session, the_brand, passphrase, purpose, actor=CLI)
        click.echo(key.kid)


@keys.command("list")
@click.option("--brand", "brand_slug")
@pass_ctx
def keys_list(ctx: Context, brand_slug: str | None) -> None:
    with ctx.sessions() as session:
        query = select(SigningKey, Brand.slug).join(Brand).order_by(SigningKey.id)
        if brand_slug:
            query = query.where(Brand.slug == brand_slug)
        for key, slug in session.execute(query):
            created = f"{key.created_at:%Y-%m-%d}"
            echo_row(key.kid, slug, key.status.value, created, key.purpose.value)


@keys.command("retire")
@click.argument("kid")
@pass_ctx
def keys_retire(ctx: Context, kid: str) -> None:
    with ctx.sessions.begin() as session:
        _key_op(keystore.retire_key, session, kid, actor=CLI)
    click.echo(f"{kid} retired: it signs nothing more, its codes stay genuine")


@keys.command("revoke")
@click.argument("kid")
@click.option("--reason", required=True)
@pass_ctx
def keys_revoke(ctx: Context, kid: str, reason: str) -> None:
    with ctx.sessions.begin() as session:
        _key_op(keystore.revoke_key, session, kid, reason, actor=CLI)
    click.echo(f"{kid} revoked: its codes now verify as revoked_key")


@keys.command("export")
@click.option("--brand", "brand_slug")
@click.option("-o", "--output", type=click.File("w"), default="-")
@pass_ctx
def keys_export(ctx: Context, brand_slug: str | None, output) -> None:
    """Write the public key set (JWKS) for offline verifiers."""
    with ctx.sessions() as session:
        the_brand = find_brand(session, brand_slug) if brand_slug else None
        output.write(keystore.load_keyring(session, the_brand).dumps() + "\n")


@keys.command("rewrap")
@click.option(
    "--new-passphrase",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    envvar="TRACEMARK_NEW_KEY_PASSPHRASE",
    help="Prompted for, or TRACEMARK_NEW_KEY_PASSPHRASE.",
)
@pass_ctx
def keys_rewrap(ctx: Context, new_passphrase: str) -> None:
    """Re-encrypt all private keys under a new passphrase (TRACEMARK_KEY_PASSPHRASE is the
    current one); then give the new one to issuance workers."""
    try:
        with ctx.sessions.begin() as session:
            count = keystore.rewrap(session, key_passphrase(ctx), new_passphrase, actor=CLI)
    except keystore.KeyStateError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{count} private keys now open with the new passphrase")


# -- issuance and labels ----------------------------------------------------------------------


def _key_op(operation, session: Session, kid: str, *args, actor) -> None:
    try:
        operation(session, keystore.get_key(session, kid), *args, actor=actor)
    except keystore.KeyStateError as exc:
        raise click.ClickException(str(exc)) from exc
