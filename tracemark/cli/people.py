"""``tracemark users|tokens``: accounts and integration API tokens."""

from __future__ import annotations

import click
from sqlalchemy import select

from tracemark.accounts import second_factor
from tracemark.accounts import tokens as api_tokens
from tracemark.accounts import users as accounts
from tracemark.audit import CLI
from tracemark.cli.base import Context, echo_row, find_brand, main, pass_ctx
from tracemark.models import Role, User


@main.group()
def users() -> None:
    """Accounts of the admin app."""


@users.command("create")
@click.argument("email")
@click.option("--brand", "brand_slug", required=True, help="The brand the user gets a role in.")
@click.option("--role", type=click.Choice([role.value for role in Role]), required=True)
@click.option("--name", help="Display name (default: the email's local part).")
@click.option(
    "--password",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    envvar="TRACEMARK_INITIAL_PASSWORD",
    help="Prompted for when not given (or set TRACEMARK_INITIAL_PASSWORD in scripts).",
)
@pass_ctx
def users_create(
    ctx: Context, email: str, brand_slug: str, role: str, name: str | None, password: str
) -> None:
    """Create user EMAIL with ROLE in brand SLUG."""
    with ctx.sessions.begin() as session:
        the_brand = find_brand(session, brand_slug)
        try:
            user = accounts.create_member(
                session, email, password, name or "", the_brand, role, actor=CLI
            )
        except accounts.AccountError as exc:
            raise click.ClickException(f"{exc.code}: {exc}") from exc
        click.echo(f"user {user.email} created: {role} of {the_brand.slug}")


@users.command("reset-2fa")
@click.argument("email")
@pass_ctx
def users_reset_2fa(ctx: Context, email: str) -> None:
    """Turn off EMAIL's second factor (lost device) and end their sessions."""
    with ctx.sessions.begin() as session:
        user = session.scalar(select(User).where(User.email == accounts.normalize_email(email)))
        if user is None:
            raise click.ClickException(f"no user {email}")
        if not second_factor.is_enabled(user):
            raise click.ClickException(f"{user.email} has no second factor")
        second_factor.reset(session, user, actor=CLI)
        click.echo(f"second factor of {user.email} reset; their sessions have ended")


@users.command("revoke")
@click.argument("email")
@click.option(
    "--brand", "brand_slug", required=True, help="The brand the user loses their role in."
)
@pass_ctx
def users_revoke(ctx: Context, email: str, brand_slug: str) -> None:
    """Take away EMAIL's role in brand SLUG and end their sessions."""
    with ctx.sessions.begin() as session:
        the_brand = find_brand(session, brand_slug)
        user = session.scalar(select(User).where(User.email == accounts.normalize_email(email)))
        if user is None or not accounts.revoke(session, user, the_brand, actor=CLI):
            raise click.ClickException(f"{email} has no role in {the_brand.slug}")
        click.echo(
            f"{user.email} has no role in {the_brand.slug} any more; their sessions have ended"
        )


# -- verification -----------------------------------------------------------------------------


@main.group()
def tokens() -> None:
    """API tokens of the integration API: create (shown once), list, revoke."""


@tokens.command("create")
@click.option("--brand", "brand_slug", required=True)
@click.option("--name", required=True, help="What the token is for (e.g. the ERP's name).")
@click.option(
    "--scope",
    "scopes",
    type=click.Choice(api_tokens.SCOPES),
    multiple=True,
    required=True,
    help="capture (EPCIS events), read (events, statistics, traces, jobs), issue (batches "
    "and code issuance); repeat for several.",
)
@pass_ctx
def tokens_create(ctx: Context, brand_slug: str, name: str, scopes: tuple[str, ...]) -> None:
    """Create a token and print it: it is shown this once, and only its digest is kept."""
    with ctx.sessions.begin() as session:
        the_brand = find_brand(session, brand_slug)
        try:
            _row, token = api_tokens.create_token(session, the_brand, name, scopes, actor=CLI)
        except api_tokens.TokenError as exc:
            raise click.ClickException(f"{exc.code}: {exc}") from exc
    click.echo(token)


@tokens.command("list")
@click.option("--brand", "brand_slug")
@pass_ctx
def tokens_list(ctx: Context, brand_slug: str | None) -> None:
    """Tokens (prefix, brand, name, scopes, state, last used), newest first."""
    with ctx.sessions() as session:
        the_brand = find_brand(session, brand_slug) if brand_slug else None
        for row in api_tokens.tokens(session, the_brand):
            state = "revoked" if row.is_revoked else "active"
            used = f"{row.last_used_at:%Y-%m-%d %H:%M}" if row.last_used_at else "never"
            scopes = row.scopes.replace(" ", ",")
            echo_row(row.prefix, row.brand.slug, row.name, scopes, state, used)


@tokens.command("revoke")
@click.argument("prefix")
@pass_ctx
def tokens_revoke(ctx: Context, prefix: str) -> None:
    """Revoke the token whose public prefix is PREFIX (calls with it fail from now on)."""
    with ctx.sessions.begin() as session:
        try:
            row = api_tokens.get_token(session, prefix)
        except api_tokens.TokenError as exc:
            raise click.ClickException(str(exc)) from exc
        api_tokens.revoke_token(session, row, actor=CLI)
    click.echo(f"token {prefix} revoked")
