"""The ``tracemark`` command: database, keys, issuance, labels, users, verification, demo."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from signing import KeyPurpose, KeyRing, Status, parse_and_verify
from signing.keyring import KeyRingError
from signing.statements import MAX_STATEMENT_BYTES, StatementStatus, verify_statement
from tracemark import audit, catalog, migrate
from tracemark.accounts import second_factor
from tracemark.accounts import tokens as api_tokens
from tracemark.accounts import users as accounts
from tracemark.codes import issuance, keystore
from tracemark.config import ConfigError, Settings
from tracemark.content.statement_text import statement_lines
from tracemark.db import make_engine, make_sessionmaker
from tracemark.models import Batch, Brand, IssuanceJob, Product, Role, SigningKey, User
from tracemark.scanning import risk


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


@click.group()
@click.pass_context
def main(ctx: click.Context) -> None:
    """Tracemark: signed unit identities and traceability."""
    ctx.obj = Context(Settings.from_env())


@main.command("init-db")
@pass_ctx
def init_db(ctx: Context) -> None:
    """Create or upgrade the database schema (Alembic migrations)."""
    engine = make_engine(ctx.settings.database_url)
    migrate.migrate_to(engine)
    click.echo(f"database at revision {migrate.current_revision(engine)}")


@main.command("backup")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option(
    "--passphrase",
    envvar="TRACEMARK_BACKUP_PASSPHRASE",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    help="Encrypts the backup (prompted for, or TRACEMARK_BACKUP_PASSPHRASE).",
)
@pass_ctx
def backup_cmd(ctx: Context, output: Path, passphrase: str) -> None:
    """Write an encrypted backup of the whole database (keys included) to OUTPUT."""
    from tracemark import backup

    engine = make_engine(ctx.settings.database_url)
    partial = output.with_name(f".{output.name}.part")
    try:
        with partial.open("wb") as out:
            header = backup.backup(engine, out, passphrase)
        partial.replace(output)
    except (backup.BackupError, OSError) as exc:
        partial.unlink(missing_ok=True)
        raise click.ClickException(f"backup failed: {exc}") from exc
    finally:
        engine.dispose()
    click.echo(
        f"{header['dialect']} database at revision {header['revision']} backed up to {output}"
    )


@main.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--passphrase",
    envvar="TRACEMARK_BACKUP_PASSPHRASE",
    prompt=True,
    hide_input=True,
    help="The backup's passphrase (prompted for, or TRACEMARK_BACKUP_PASSPHRASE).",
)
@click.option("--yes", is_flag=True, help="Replace the database without asking first.")
@pass_ctx
def restore_cmd(ctx: Context, file: Path, passphrase: str, yes: bool) -> None:
    """Replace the database with the backup FILE (stop the app and workers first)."""
    from tracemark import backup

    engine = make_engine(ctx.settings.database_url)
    try:
        with file.open("rb") as source:
            header = backup.read_header(source)
            if not yes:
                click.confirm(
                    f"Replace the database with the backup of {header.get('created_at')}?",
                    abort=True,
                )
            source.seek(0)
            backup.restore(engine, source, passphrase)
        behind = not migrate.is_current(engine)
    except backup.BackupError as exc:
        raise click.ClickException(f"{exc}; the database was not changed") from exc
    finally:
        engine.dispose()
    click.echo(f"restored the backup of {header['created_at']} (revision {header['revision']})")
    if behind:
        click.echo("the backup's schema is older than this code: run `tracemark init-db`")


# -- catalog ---------------------------------------------------------------------------------


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
        catalog.create_brand(session, slug, name, resolver)
    click.echo(f"brand {slug} created")


@brand.command("risk")
@click.argument("slug")
@click.argument("settings", nargs=-1)
@click.option("--reset", is_flag=True, help="Back to the defaults.")
@pass_ctx
def brand_risk(ctx: Context, slug: str, settings: tuple[str, ...], reset: bool) -> None:
    """Show or set the brand's clone-risk thresholds, e.g. `networks_per_day=6`."""
    pairs = dict(setting.partition("=")[::2] for setting in settings)
    try:
        overrides = risk.policy_overrides(pairs)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="SETTINGS") from exc
    with ctx.sessions.begin() as session:
        the_brand = _brand(session, slug)
        if reset:
            the_brand.risk_policy = {}
        if overrides:
            the_brand.risk_policy = {**(the_brand.risk_policy or {}), **overrides}
        policy = risk.RiskPolicy.from_overrides(the_brand.risk_policy)
    for name, value in vars(policy).items():
        click.echo(f"{name}\t{value}")


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
            created = catalog.create_product(session, _brand(session, brand_slug), gtin, name)
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
        found = _product(session, _brand(session, brand_slug), gtin)
        try:
            catalog.create_batch(session, found, lot)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="LOT") from exc
    click.echo(f"batch {lot} created")


# -- keys ------------------------------------------------------------------------------------


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
    passphrase = _passphrase(ctx) if purpose is KeyPurpose.CODE else _statement_passphrase(ctx)
    with ctx.sessions.begin() as session:
        key = keystore.create_key(session, _brand(session, brand_slug), passphrase, purpose)
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
            click.echo(
                f"{key.kid}\t{slug}\t{key.status.value}\t{key.created_at:%Y-%m-%d}"
                f"\t{key.purpose.value}"
            )


@keys.command("retire")
@click.argument("kid")
@pass_ctx
def keys_retire(ctx: Context, kid: str) -> None:
    with ctx.sessions.begin() as session:
        _key_op(keystore.retire_key, session, kid)
    click.echo(f"{kid} retired: it signs nothing more, its codes stay genuine")


@keys.command("revoke")
@click.argument("kid")
@click.option("--reason", required=True)
@pass_ctx
def keys_revoke(ctx: Context, kid: str, reason: str) -> None:
    with ctx.sessions.begin() as session:
        _key_op(keystore.revoke_key, session, kid, reason)
    click.echo(f"{kid} revoked: its codes now verify as revoked_key")


@keys.command("export")
@click.option("--brand", "brand_slug")
@click.option("-o", "--output", type=click.File("w"), default="-")
@pass_ctx
def keys_export(ctx: Context, brand_slug: str | None, output) -> None:
    """Write the public key set (JWKS) for offline verifiers."""
    with ctx.sessions() as session:
        the_brand = _brand(session, brand_slug) if brand_slug else None
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
            count = keystore.rewrap(session, _passphrase(ctx), new_passphrase)
    except keystore.KeyStateError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{count} private keys now open with the new passphrase")


# -- issuance and labels ----------------------------------------------------------------------


@main.command("issue")
@click.argument("lot")
@click.option("--count", type=click.IntRange(1, issuance.MAX_JOB_SIZE))
@click.option("--brand", "brand_slug", help="Needed when several brands exist.")
@click.option("--gtin", help="Needed when the lot exists for several products.")
@click.option("--resume", "resume_job", type=int, help="Resume this interrupted job instead.")
@click.option("--workers", type=click.IntRange(1, 64), help="Signing processes (default: cores).")
@click.option("--queue", is_flag=True, help="Only queue the job for `tracemark worker`.")
@pass_ctx
def issue(ctx, lot, count, brand_slug, gtin, resume_job, workers, queue) -> None:
    """Issue COUNT signed codes for batch LOT (all-or-resume: see --resume)."""
    passphrase = _passphrase(ctx)
    with ctx.sessions.begin() as session:
        if resume_job is not None:
            job = session.get(IssuanceJob, resume_job)
            if job is None:
                raise click.ClickException(f"no job {resume_job}")
        else:
            if count is None:
                raise click.UsageError("give --count (or --resume JOB)")
            the_batch = _batch(session, lot, brand_slug, gtin)
            try:
                job = issuance.create_job(session, the_batch, count)
            except (keystore.KeyStateError, issuance.BatchRecalled) as exc:
                raise click.ClickException(str(exc)) from exc
        job_id, total = job.id, job.requested
    if queue:
        click.echo(f"job {job_id} queued: {total:,} codes")
        return
    click.echo(f"job {job_id}: {total:,} codes", err=True)
    with click.progressbar(length=total, label="signing", file=sys.stderr) as bar:
        last = [0]

        def progress(done: int, _total: int) -> None:
            bar.update(done - last[0])
            last[0] = done

        try:
            issuance.run_job(ctx.sessions, job_id, passphrase, workers=workers, progress=progress)
        except KeyboardInterrupt:
            raise click.ClickException(
                f"interrupted: resume with `tracemark issue {lot} --resume {job_id}`"
            ) from None
    click.echo(f"job {job_id} done: {total:,} codes issued")


@main.command("worker")
@click.option("--once", is_flag=True, help="Stop when no job is left instead of waiting.")
@click.option("--workers", type=click.IntRange(1, 64), help="Signing processes (default: cores).")
@click.option("--no-rollup", is_flag=True, help="Do not update the boards when idle.")
@click.option("--no-outbox", is_flag=True, help="Leave rule e-mails and webhooks to others.")
@pass_ctx
def worker(ctx: Context, once: bool, workers: int | None, no_rollup: bool, no_outbox: bool) -> None:
    """Run queued issuance jobs and label renders (and take over those whose worker died),
    deliver the outbox (rule e-mails and webhooks) beside them; when idle, bring the scan
    analytics and the quality and supply-chain boards up to date."""
    from tracemark import worker as jobs
    from tracemark.labels import renders as label_renders
    from tracemark.reporting import board_rollup, rollups

    passphrase = _passphrase(ctx)
    renders = label_renders.RenderOptions.from_settings(ctx.settings)

    def roll_up() -> None:
        rollups.roll_up(ctx.sessions)
        board_rollup.roll_up(ctx.sessions)

    idle = None if no_rollup else roll_up
    deliver = None if no_outbox else _deliverer(ctx)
    attempted = None if deliver is None else lambda: deliver().attempted
    finished = jobs.run_worker(
        ctx.sessions,
        passphrase,
        once=once,
        workers=workers,
        renders=renders,
        idle=idle,
        deliver=attempted,
    )
    click.echo(f"{finished} task(s) finished")


def _deliverer(ctx: Context):
    """One round of outbox delivery, returning what it did."""
    from tracemark import worker as jobs
    from tracemark.notify import outbox

    try:
        transports = outbox.Transports.from_settings(ctx.settings)
    except ConfigError as error:
        raise click.ClickException(str(error)) from None
    name = jobs.worker_name()
    return lambda: outbox.deliver(ctx.sessions, transports, name)


@main.group("outbox")
def outbox_group() -> None:
    """Rule e-mails and webhooks waiting to go out."""


@outbox_group.command("deliver")
@click.option("--once", is_flag=True, help="Deliver what is due, then stop (for cron).")
@click.option("--every", type=click.FloatRange(min=0.1), default=2.0, show_default=True,
              help="Seconds between looks at the outbox when nothing is due.")  # fmt: skip
@pass_ctx
def outbox_deliver(ctx: Context, once: bool, every: float) -> None:
    """Deliver due messages (at least once; receivers drop repeats by their key)."""
    import time

    deliver = _deliverer(ctx)
    while True:
        done = deliver()
        if done.attempted:
            click.echo(f"{done.sent} sent, {done.failed} to retry, {done.dead} dead")
            for error in done.errors:
                click.echo(f"  {error}", err=True)
            continue
        if once:
            break
        time.sleep(every)


@main.group()
def analytics() -> None:
    """Scan analytics."""


@analytics.command("rollup")
@click.option("--batch-size", type=click.IntRange(1, 1_000_000), default=50_000, show_default=True)
@click.option("--every", type=click.FloatRange(min=1), help="Keep running, every SECONDS.")
@click.option("--all-claims", is_flag=True, help="Recount every day's claims, not the last.")
@pass_ctx
def analytics_rollup(ctx: Context, batch_size: int, every: float | None, all_claims: bool) -> None:
    """Add the scans and trace events recorded since the last run to the tables the
    boards read."""
    import time

    from tracemark.reporting import board_rollup, rollups

    while True:
        run = rollups.roll_up(ctx.sessions, batch_size=batch_size, all_claims=all_claims)
        all_claims = False
        click.echo(
            f"{run.events:,} events in {run.batches} batch(es), up to event {run.last_event_id}"
        )
        run = board_rollup.roll_up(ctx.sessions, batch_size=batch_size)
        click.echo(
            f"{run.events:,} trace events in {run.batches} batch(es),"
            f" up to event {run.last_event_id}"
        )
        if every is None:
            return
        time.sleep(every)


@main.command("labels")
@click.argument("lot")
@click.option("--format", "fmt", type=click.Choice(["pdf", "svg", "png", "csv"]), default="pdf")
@click.option("--brand", "brand_slug")
@click.option("--gtin")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--columns", type=click.IntRange(1, 20), default=4, show_default=True)
@click.option("--rows", type=click.IntRange(1, 30), default=6, show_default=True)
@pass_ctx
def labels_cmd(ctx, lot, fmt, brand_slug, gtin, output, columns, rows) -> None:
    """Write the labels of batch LOT: a PDF sheet, a ZIP of SVG/PNG, or a CSV of URLs."""
    from tracemark.labels import files as label_files

    with ctx.sessions() as session:
        the_batch = _batch(session, lot, brand_slug, gtin)
        try:
            count = label_files.write(
                session,
                the_batch,
                fmt,
                output,
                ctx.settings.public_base_url,
                columns=columns,
                rows=rows,
            )
        except OSError as exc:  # a full disk, a missing folder: the partial file is gone
            reason = exc.strerror or exc.__class__.__name__
            message = f"could not write {output}: {reason}; nothing written"
            raise click.ClickException(message) from exc
    click.echo(f"{count:,} labels written to {output}")


@main.command("labels-prune")
@click.option("--days", type=click.IntRange(0, 3650), default=30, show_default=True)
@pass_ctx
def labels_prune(ctx: Context, days: int) -> None:
    """Delete label files finished more than DAYS ago (downloading one again renders it
    again), and partial files left by renders that died. Run it daily from cron."""
    import datetime as dt

    from tracemark.labels import renders as label_renders

    pruned = label_renders.prune(ctx.sessions, ctx.settings.label_dir, dt.timedelta(days=days))
    click.echo(f"{pruned.files:,} label files deleted ({pruned.bytes:,} bytes)")


# -- users -----------------------------------------------------------------------------------


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
        the_brand = _brand(session, brand_slug)
        try:
            user = accounts.create_user(session, email, password, name or "")
        except accounts.AccountError as exc:
            raise click.ClickException(f"{exc.code}: {exc}") from exc
        accounts.grant(session, user, the_brand, role)
        audit.record(
            session,
            "user.create",
            brand_id=the_brand.id,
            object_type="user",
            object_id=user.id,
            details={"email": user.email, "role": role, "via": "cli"},
        )
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
        second_factor.disable(session, user)
        accounts.end_sessions(session, user)
        audit.record(
            session,
            "user.totp_reset",
            object_type="user",
            object_id=user.id,
            details={"via": "cli"},
        )
        click.echo(f"second factor of {user.email} reset; their sessions have ended")


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
        the_brand = _brand(session, brand_slug)
        try:
            row, token = api_tokens.create_token(session, the_brand, name, scopes)
        except api_tokens.TokenError as exc:
            raise click.ClickException(f"{exc.code}: {exc}") from exc
        audit.record(
            session,
            "token.create",
            brand_id=the_brand.id,
            object_type="api_token",
            object_id=row.id,
            details={"prefix": row.prefix, "name": row.name, "scopes": row.scopes, "via": "cli"},
        )
    click.echo(token)


@tokens.command("list")
@click.option("--brand", "brand_slug")
@pass_ctx
def tokens_list(ctx: Context, brand_slug: str | None) -> None:
    """Tokens (prefix, brand, name, scopes, state, last used), newest first."""
    with ctx.sessions() as session:
        the_brand = _brand(session, brand_slug) if brand_slug else None
        for row in api_tokens.tokens(session, the_brand):
            state = "revoked" if row.is_revoked else "active"
            used = f"{row.last_used_at:%Y-%m-%d %H:%M}" if row.last_used_at else "never"
            click.echo(
                f"{row.prefix}\t{row.brand.slug}\t{row.name}\t{row.scopes.replace(' ', ',')}"
                f"\t{state}\t{used}"
            )


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
        if api_tokens.revoke_token(session, row):
            audit.record(
                session,
                "token.revoke",
                brand_id=row.brand_id,
                object_type="api_token",
                object_id=row.id,
                details={"prefix": row.prefix, "name": row.name, "via": "cli"},
            )
    click.echo(f"token {prefix} revoked")


@main.command("verify")
@click.argument("url")
@click.option(
    "--keys",
    "keys_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Verify offline against this JWKS file instead of the database.",
)
@pass_ctx
def verify(ctx: Context, url: str, keys_file: Path | None) -> None:
    """Check a code URL's signature; exit status 0 only when it is valid."""
    if keys_file is not None:
        try:
            ring = KeyRing.loads(keys_file.read_bytes())
        except KeyRingError as exc:
            raise click.ClickException(f"{keys_file}: {exc}") from exc
    else:
        with ctx.sessions() as session:
            ring = keystore.load_keyring(session)
    result = parse_and_verify(url, ring)
    click.echo(result.status.value + (f": {result.reason}" if result.reason else ""))
    if result.code is not None:
        code = result.code
        click.echo(f"gtin {code.gtin}  lot {code.lot}  serial {code.serial}  key {code.kid}")
    sys.exit(0 if result.status is Status.VALID else 1)


@main.command("verify-statement")
@click.argument("statement_file", type=click.File("rb"))
@click.option(
    "--keys",
    "keys_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    required=True,
    help="The brand's published key set (JWKS), e.g. from `tracemark keys export`.",
)
def verify_statement_cmd(statement_file, keys_file: Path) -> None:
    """Check a provenance statement offline; exit status 0 only when it is valid.

    Prints what the statement says (only once its signature checked), then the verdict.
    """
    try:
        ring = KeyRing.loads(keys_file.read_bytes())
    except KeyRingError as exc:
        raise click.ClickException(f"{keys_file}: {exc}") from exc
    check = verify_statement(statement_file.read(MAX_STATEMENT_BYTES + 1), ring)
    if check.statement is not None:
        for line in statement_lines(check.statement):
            click.echo(line)
    verdict = check.status.value + (f": {check.reason}" if check.reason else "")
    click.echo(f"verdict    {verdict}" + (f" (key {check.kid})" if check.kid else ""))
    sys.exit(0 if check.status is StatementStatus.VALID else 1)


@main.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--no-serve", is_flag=True, help="Set up the demo data and exit.")
def demo(host: str, port: int, no_serve: bool) -> None:
    """Create a demo brand with 1,000 codes on the embedded SQLite and serve it."""
    from tracemark import demo as demo_data

    settings = Settings.from_env(demo=True)
    base = f"http://{host}:{port}"
    result = demo_data.setup(settings, base)
    click.echo(f"database   {settings.database_url}")
    click.echo(f"brand      {result.brand_name} ({result.codes:,} codes in lot {result.lot})")
    click.echo(f"sample     {result.sample_url}")
    if result.sample_pin:
        click.echo(f"its PIN    {result.sample_pin}  (the scratch-off PIN that claims it)")
    click.echo(f"keys       {base}/.well-known/tracemark/keys.json")
    click.echo(f"admin      {base}/admin/login  {result.owner_email} / {result.owner_password}")
    if no_serve:
        return
    from tracemark.app import create_app

    app = create_app(settings)
    demo_data.start_worker(settings)  # issues codes and renders labels for the admin app
    app.run(host=host, port=port, threaded=True)


# -- helpers ----------------------------------------------------------------------------------


def _passphrase(ctx: Context) -> str:
    try:
        return ctx.settings.require_key_passphrase()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc


def _statement_passphrase(ctx: Context) -> str:
    try:
        return ctx.settings.require_statement_passphrase()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc


def _product(session: Session, brand: Brand, gtin: str) -> Product:
    try:
        return catalog.find_product(session, brand, gtin)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--gtin") from exc
    except catalog.NotFound as exc:
        raise click.ClickException(str(exc)) from exc


def _brand(session: Session, slug: str) -> Brand:
    try:
        return catalog.get_brand(session, slug)
    except catalog.NotFound as exc:
        raise click.ClickException(str(exc)) from exc


def _batch(session: Session, lot: str, brand_slug: str | None, gtin: str | None) -> Batch:
    if brand_slug:
        brands = [_brand(session, brand_slug)]
    else:
        brands = list(session.scalars(select(Brand)))
        if len(brands) != 1:
            raise click.UsageError("several brands exist: give --brand")
    try:
        return catalog.find_batch(session, brands[0], lot, gtin)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--gtin") from exc
    except catalog.NotFound as exc:
        raise click.ClickException(str(exc)) from exc


def _key_op(operation, session: Session, kid: str, *args) -> None:
    try:
        operation(session, keystore.get_key(session, kid), *args)
    except keystore.KeyStateError as exc:
        raise click.ClickException(str(exc)) from exc
