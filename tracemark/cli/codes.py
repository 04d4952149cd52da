"""``tracemark issue|labels|labels-prune``: issuing codes and writing their label files."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from tracemark.audit import CLI
from tracemark.catalog import ForeignGtin
from tracemark.cli.base import Context, find_batch, key_passphrase, main, pass_ctx
from tracemark.codes import issuance, keystore
from tracemark.models import IssuanceJob


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
    passphrase = key_passphrase(ctx)
    with ctx.sessions.begin() as session:
        if resume_job is not None:
            job = session.get(IssuanceJob, resume_job)
            if job is None:
                raise click.ClickException(f"no job {resume_job}")
            issuance.resume(session, job, actor=CLI)
        else:
            if count is None:
                raise click.UsageError("give --count (or --resume JOB)")
            the_batch = find_batch(session, lot, brand_slug, gtin)
            try:
                job = issuance.create_job(session, the_batch, count, actor=CLI)
            except (keystore.KeyStateError, issuance.BatchRecalled, ForeignGtin) as exc:
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
        the_batch = find_batch(session, lot, brand_slug, gtin)
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
