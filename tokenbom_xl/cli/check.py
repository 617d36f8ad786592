"""``tokenbom check``: recalculate a workbook in LibreOffice and verify it."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from tokenbom_xl.cli import EXIT_FAILED, currency_text, handle_errors

# The Checks sheet lists its checks from this row down, below the header.
_FIRST_CHECK_ROW = 6


@click.command()
@click.argument("workbook", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--max-size-mb",
    type=click.IntRange(min=1),
    default=512,
    show_default=True,
    help="Maximum uncompressed size of the workbook's parts, in MiB.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=1),
    default=300.0,
    show_default=True,
    help="Maximum time to wait for LibreOffice, in seconds.",
)
@handle_errors
def check(workbook: Path, max_size_mb: int, timeout: float) -> None:
    """Recalculate WORKBOOK in LibreOffice headless and verify it.

    Prints the key figures and every check. Exits 1 if any check is FALSE or any
    formula evaluates to an error, so CI can run it after `tokenbom build`.
    """
    from tokenbom_xl.errors import InputError
    from tokenbom_xl.recalc import recalculate_values
    from tokenbom_xl.workbook.summary import HEADLINE_NAMES

    recalculated = recalculate_values(
        workbook, timeout=timeout, max_uncompressed_bytes=max_size_mb * 2**20
    )
    if "checks_all_pass" not in recalculated.names:
        raise InputError(
            f"{workbook}: missing the checks_all_pass defined name; check a workbook "
            "written by tokenbom build"
        )

    click.echo(f"Recalculated {workbook} in LibreOffice")
    currency = "USD"
    if "currency" in recalculated.names:
        currency = str(recalculated.named("currency"))
    for name, label in HEADLINE_NAMES.items():
        if name in recalculated.names:
            value = recalculated.named(name)
            click.echo(f"  {label}: {_figure_text(name, value, currency)}")

    checks = _check_rows(recalculated)
    failed = [(label, value) for label, value in checks if value is not True]
    for label, value in checks:
        click.echo(f"  [{'TRUE' if value is True else value}] {label}")
    master = recalculated.named("checks_all_pass")
    errors = recalculated.errors()
    for sheet, coordinate, value in errors[:20]:
        click.echo(f"error: {sheet}!{coordinate} evaluates to {value}", err=True)
    if len(errors) > 20:
        click.echo(
            f"error: {len(errors) - 20} more formula cells evaluate to errors", err=True
        )
    click.echo(
        f"master check: {master}; {len(checks) - len(failed)} of {len(checks)} checks TRUE; {len(errors)} formula errors"
    )
    if master is not True or failed or errors:
        sys.exit(EXIT_FAILED)


def _figure_text(name: str, value: object, currency: str) -> str:
    """Format a per-million figure as money per million, and any other value as it is."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if name.endswith("_per_million"):
        return f"{currency_text(value, currency)}/M"
    return f"{value:z.4f}"


def _check_rows(recalculated) -> list[tuple[str, object]]:
    """Return (label, value) for each row of the Checks sheet below its header."""
    values = recalculated.values.get("Checks", {})
    rows = []
    row = _FIRST_CHECK_ROW
    while f"A{row}" in values:
        rows.append((str(values[f"A{row}"]), values.get(f"B{row}")))
        row += 1
    return rows
