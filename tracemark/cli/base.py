"""The ``tracemark`` command's root group and what its command groups share: the context
(settings, sessions on an up-to-date database), passphrases, and lookups by name."""

from __future__ import annotations

import click
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tracemark import catalog, errors, migrate
from tracemark.config import ConfigError, Settings
from tracemark.db import make_engine, make_sessionmaker
from tracemark.models import Batch, Brand, Product


class Context:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._sessions: sessionmaker[Session] | None = None

    @property
    def sessions(self) -> sessionmaker[Session]:
        if self._sessions is None:
            engine = make_engine(self.settings.database_url)
            if not migrate.is_current(engine):
                raise click.ClickException(
                    "the database is not up to date: run `tracemark init-db`"
                )
            self._sessions = make_sessionmaker(engine)
        return self._sessions


pass_ctx = click.make_pass_decorator(Context)


def echo_row(*fields: object) -> None:
    """Print one row of a listing: its fields separated by tabs, so scripts can cut it."""
    click.echo("\t".join(map(str, fields)))


@click.group()
@click.pass_context
def main(ctx: click.Context) -> None:
    """Tracemark: signed unit identities and traceability."""
    ctx.obj = Context(Settings.from_env())


def key_passphrase(ctx: Context) -> str:
    try:
        return ctx.settings.require_key_passphrase()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc


def statement_passphrase(ctx: Context) -> str:
    try:
        return ctx.settings.require_statement_passphrase()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc


def find_product(session: Session, brand: Brand, gtin: str) -> Product:
    try:
        return catalog.find_product(session, brand, gtin)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--gtin") from exc
    except errors.NotFound as exc:
        raise click.ClickException(str(exc)) from exc


def find_brand(session: Session, slug: str) -> Brand:
    try:
        return catalog.get_brand(session, slug)
    except errors.NotFound as exc:
        raise click.ClickException(str(exc)) from exc


def find_batch(session: Session, lot: str, brand_slug: str | None, gtin: str | None) -> Batch:
    if brand_slug:
        brands = [find_brand(session, brand_slug)]
    else:
        brands = list(session.scalars(select(Brand)))
        if len(brands) != 1:
            raise click.UsageError("several brands exist: give --brand")
    try:
        return catalog.find_batch(session, brands[0], lot, gtin)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--gtin") from exc
    except errors.NotFound as exc:
        raise click.ClickException(str(exc)) from exc
