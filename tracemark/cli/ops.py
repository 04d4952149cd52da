"""Running the system: schema, backups, the worker, the outbox, rollups, the demo."""

from __future__ import annotations

from pathlib import Path

import click

from tracemark import migrate
from tracemark.cli.base import Context, key_passphrase, main, pass_ctx
from tracemark.config import ConfigError
from tracemark.db import make_engine


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

    passphrase = key_passphrase(ctx)
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


@main.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--no-serve", is_flag=True, help="Set up the demo data and exit.")
def demo(host: str, port: int, no_serve: bool) -> None:
    """Create a demo brand with 1,000 codes on the embedded SQLite and serve it."""
    from tracemark import demo as demo_data

    base = f"http://{host}:{port}"
    settings = demo_data.demo_settings(base)
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
