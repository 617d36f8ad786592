"""``tokenbom chargeback``: charge each period's cost to the business units that used it."""

from __future__ import annotations

from pathlib import Path

import click

from tokenbom_xl.cli import handle_errors
from tokenbom_xl.cli.paths import OutputFile, check_output_paths

DEFAULT_OUTPUT = Path("chargeback.csv")


@click.command()
@click.argument("scenario", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--usage",
    "usage_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Usage CSV: period,business_unit,model,good_tokens,reserved_share.",
)
@click.option(
    "-o",
    "--output",
    type=OutputFile(),
    default=DEFAULT_OUTPUT,
    show_default=True,
    help="Chargeback CSV to write, one row per period and consumer, money in cents.",
)
@click.option(
    "--tbm-output",
    type=OutputFile(),
    help="Also write TBM-ready rows (period, cost pool, tower, sub-tower, solution, consumer, amount) here.",
)
@click.option(
    "--tbm-map",
    type=click.Path(dir_okay=False, path_type=Path),
    help="TBM mapping CSV for --tbm-output. Default: templates/tbm_mapping.csv.",
)
@click.option(
    "--limit",
    type=click.IntRange(min=0),
    default=20,
    show_default=True,
    help="Print at most this many consumer lines; the CSV always has all of them.",
)
@click.option("-q", "--quiet", is_flag=True, help="Print nothing on success.")
@handle_errors
def chargeback(
    scenario: Path,
    usage_path: Path,
    output: Path,
    tbm_output: Path | None,
    tbm_map: Path | None,
    limit: int,
    quiet: bool,
) -> None:
    """Charge each period's cost to the business units in the usage.

    Each usage period's cost C(U) of SCENARIO, with U taken from the usage, is
    charged in three parts. Usage charges apply the full-absorption rate per
    model. Capacity variance goes to reserved-but-unused capacity. Unreserved idle
    goes to the central line, or is spread by usage, as the scenario's [chargeback]
    table sets. Amounts are rounded to cents and add up to each period's C(U) exactly. Text that a
    spreadsheet would run as a formula is written with a leading apostrophe.
    Nothing is written when an input is invalid.
    """
    from tokenbom_xl.chargeback import chargeback_frame, compute_chargeback
    from tokenbom_xl.csvout import write_csv
    from tokenbom_xl.scenario import load_scenario
    from tokenbom_xl.usage import read_usage

    check_output_paths(
        [("--output", output), ("--tbm-output", tbm_output)],
        [("SCENARIO", scenario), ("--usage", usage_path), ("--tbm-map", tbm_map)],
    )
    model = load_scenario(scenario)
    routes = _routes(tbm_map) if (tbm_output or tbm_map) else None
    result = compute_chargeback(model, read_usage(usage_path))
    frame = chargeback_frame(result)
    tbm_frame = _tbm_frame(result, routes) if tbm_output else None

    written = write_csv(output, frame, text_columns=("period", "business_unit"))
    if tbm_output and tbm_frame is not None:
        write_csv(
            tbm_output,
            tbm_frame,
            text_columns=(
                "period",
                "cost_pool",
                "tower",
                "sub_tower",
                "solution",
                "consumer",
            ),
        )
    if quiet:
        return
    _print_summary(result, frame, limit, model.currency)
    click.echo(f"Wrote {written} ({len(frame):,} lines)")
    if tbm_output:
        click.echo(f"Wrote {tbm_output} ({len(tbm_frame):,} TBM rows)")


def _routes(path: Path | None):
    """Load the TBM mapping from ``path``, or the shipped default without one."""
    from tokenbom_xl.tbm import default_tbm_mapping, load_tbm_mapping

    return load_tbm_mapping(path) if path else default_tbm_mapping()


def _tbm_frame(result, routes):
    """Return the TBM-ready rows of ``result``, with amounts as cent text."""
    from tokenbom_xl.csvout import cents_text
    from tokenbom_xl.tbm import TBM_OUTPUT_COLUMNS, tbm_rows

    rows = tbm_rows(result, routes)
    rows["amount"] = cents_text(rows["amount_cents"].to_numpy())
    return rows[list(TBM_OUTPUT_COLUMNS)]


def _print_summary(result, frame, limit: int, currency: str) -> None:
    """Print the period totals, then at most ``limit`` consumer lines."""
    from tokenbom_xl.cli import currency_text

    periods = result.periods
    click.echo(
        f"{'period':<8} {'utilization':>11} {'C(U)':>16} {'usage':>16} {'capacity var.':>16} {'unreserved idle':>16}"
    )
    for record in periods.itertuples(index=False):
        click.echo(
            f"{record.period:<8} {record.utilization:>11.4f} "
            f"{currency_text(record.total_cost_cents / 100, currency, 2):>16} "
            f"{currency_text(record.usage_charges, currency, 2):>16} "
            f"{currency_text(record.capacity_variance - record.unreserved_idle, currency, 2):>16} "
            f"{currency_text(record.unreserved_idle, currency, 2):>16}"
        )
    if limit == 0:
        return
    click.echo("")
    click.echo(
        f"{'period':<8} {'business unit':<28} {'usage':>14} {'capacity var.':>14} {'idle':>12} {'total':>14}"
    )
    for record in frame.head(limit).itertuples(index=False):
        name = _printable(record.business_unit)
        if len(name) > 28:
            name = name[:27] + "…"
        click.echo(
            f"{record.period:<8} {name:<28} {record.usage_charge:>14} {record.capacity_variance:>14} "
            f"{record.unreserved_idle:>12} {record.total:>14}"
        )
    if len(frame) > limit:
        click.echo(f"... {len(frame) - limit:,} more lines in the CSV")


def _printable(text: str) -> str:
    r"""Escape line breaks, tabs and other unprintable characters (``\n``) for one table row."""
    if text.isprintable():
        return text
    return "".join(
        character if character.isprintable() else repr(character)[1:-1]
        for character in text
    )
