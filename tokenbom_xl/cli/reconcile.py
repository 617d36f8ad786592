"""``tokenbom reconcile``: compare the modelled BOM with the general ledger."""

from __future__ import annotations

from pathlib import Path

import click

from tokenbom_xl.cli import currency_text, handle_errors
from tokenbom_xl.cli.paths import OutputFile, check_output_paths

DEFAULT_OUTPUT = Path("reconciliation.csv")


@click.command()
@click.argument("scenario", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--ledger",
    "ledger_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="GL export CSV: period,account,cost_centre,amount,description.",
)
@click.option(
    "--gl-map",
    "gl_map_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Account-to-component mapping CSV: match,account,account_to,component.",
)
@click.option(
    "--usage",
    "usage_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Usage CSV; its periods are modelled at the utilization they imply. "
    "Without it every GL period is modelled at the scenario's utilization.",
)
@click.option(
    "-o",
    "--output",
    type=OutputFile(),
    default=DEFAULT_OUTPUT,
    show_default=True,
    help="Reconciliation CSV to write, one row per period and component.",
)
@click.option(
    "--unmapped-output",
    type=OutputFile(),
    help="CSV of the GL lines no rule maps. Default: OUTPUT with _unmapped before the suffix.",
)
@click.option("-q", "--quiet", is_flag=True, help="Print nothing on success.")
@handle_errors
def reconcile(
    scenario: Path,
    ledger_path: Path,
    gl_map_path: Path,
    usage_path: Path | None,
    output: Path,
    unmapped_output: Path | None,
    quiet: bool,
) -> None:
    """Reconcile the modelled BOM of SCENARIO against a GL export.

    Per period and component: booked, modelled, variance, variance % and a flag
    against the scenario's tolerance and materiality ([reconciliation] table). GL
    lines that no rule maps are listed, never dropped: mapped + unmapped = GL total.
    Nothing is written when an input is invalid.
    """
    from tokenbom_xl.csvout import write_csv
    from tokenbom_xl.ledger import read_gl_map, read_ledger
    from tokenbom_xl.reconcile import reconcile as run_reconciliation
    from tokenbom_xl.reconcile import reconciliation_frame, unmapped_frame
    from tokenbom_xl.scenario import load_scenario

    unmapped_target = unmapped_output or output.with_name(
        f"{output.stem}_unmapped{output.suffix or '.csv'}"
    )
    unmapped_label = (
        "--unmapped-output" if unmapped_output else "the default --unmapped-output"
    )
    check_output_paths(
        [("--output", output), (unmapped_label, unmapped_target)],
        [
            ("SCENARIO", scenario),
            ("--ledger", ledger_path),
            ("--gl-map", gl_map_path),
            ("--usage", usage_path),
        ],
    )
    model = load_scenario(scenario)
    gl_map = read_gl_map(gl_map_path)
    ledger = read_ledger(ledger_path)
    chargeback = None
    if usage_path is not None:
        from tokenbom_xl.chargeback import compute_chargeback
        from tokenbom_xl.usage import read_usage

        chargeback = compute_chargeback(model, read_usage(usage_path))
    result = run_reconciliation(model, ledger, gl_map, chargeback=chargeback)
    frame = reconciliation_frame(result)
    unmapped = unmapped_frame(result)

    written = write_csv(output, frame, text_columns=("period", "component", "flag"))
    write_csv(
        unmapped_target,
        unmapped,
        text_columns=("period", "account", "cost_centre", "description"),
    )
    if quiet:
        return
    _print_table(frame)
    cur = model.currency
    click.echo(
        f"GL total {currency_text(result.gl_total, cur, 2)} = mapped {currency_text(result.mapped_total, cur, 2)}"
        f" + unmapped {currency_text(result.unmapped_total, cur, 2)} ({len(unmapped):,} of {result.line_count:,} lines)"
    )
    flagged = int((frame["flag"] != "ok").sum())
    click.echo(
        f"{flagged} of {len(frame)} rows flagged (tolerance {result.tolerance:.1%}, materiality {result.materiality:g})"
    )
    click.echo(f"Wrote {written} and {unmapped_target}")


def _print_table(frame) -> None:
    """Print one line per period and component of the reconciliation."""
    click.echo(
        f"{'period':<8} {'component':<16} {'booked':>14} {'modelled':>14} {'variance':>14} {'var. %':>8}  flag"
    )
    for record in frame.itertuples(index=False):
        variance_percent = (
            f"{float(record.variance_pct):.1%}" if record.variance_pct != "" else ""
        )
        click.echo(
            f"{record.period:<8} {record.component:<16} {record.booked:>14} {record.modelled:>14} "
            f"{record.variance:>14} {variance_percent:>8}  {record.flag}"
        )
