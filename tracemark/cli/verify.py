"""``tracemark verify|verify-statement``: checking codes and provenance statements offline."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from signing import KeyRing, Status, parse_and_verify
from signing.keyring import KeyRingError
from signing.statements import MAX_STATEMENT_BYTES, StatementStatus, verify_statement
from tracemark.cli.base import Context, main, pass_ctx
from tracemark.codes import keystore
from tracemark.content.statement_text import statement_lines


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
