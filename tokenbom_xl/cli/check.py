"""``tokenbom check``: recalculate a workbook in LibreOffice and verify it."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from tokenbom_xl.cli import EXIT_FAILED, handle_errors


@click.command()
@click.argument("workbook", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--timeout",
    type=click.FloatRange(min=1),
    default=300.0,
    show_default=True,
    help="Seconds to wait for LibreOffice.",
)
@handle_errors
def check(workbook: Path, timeout: float) -> None:
    """Recalculate WORKBOOK in LibreOffice headless and verify it.

    Prints the key figures and every check. Exits 1 if any check is FALSE or any
    formula evaluates to an error, so CI can run it after `tokenbom build`.
    """
    from tokenbom_xl.errors import InputError
    from tokenbom_xl.recalc import recalculate_values
    from tokenbom_xl.workbook.summary import HEADLINE_NAMES

    recalculated = recalculate_values(workbook, timeout=timeout)
    if "checks_all_pass" not in recalculated.names:
        raise InputError(
            f"{workbook}: has no checks_all_pass defined name; is it a Token BOM workbook?"
        )

    click.echo(f"Recalculated {workbook} in LibreOffice")
    for name, label in HEADLINE_NAMES.items():
        if name in recalculated.names:
            value = recalculated.named(name)
            shown = f"{value:.4f}" if isinstance(value, (int, float)) else str(value)
            click.echo(f"  {label}: {shown}")

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


def _check_rows(recalculated) -> list[tuple[str, object]]:
    """Return (label, value) for each row of the Checks sheet below its header."""
    values = recalculated.values.get("Checks", {})
    rows = []
    row = 6
    while f"A{row}" in values:
        rows.append((str(values[f"A{row}"]), values.get(f"B{row}")))
        row += 1
    return rows
