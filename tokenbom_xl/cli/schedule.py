"""``tokenbom schedule``: re-strike the BOM for every month of a horizon and write the workbook."""

from __future__ import annotations

from pathlib import Path

import click

from tokenbom_xl.cli import currency_text, handle_errors
from tokenbom_xl.cli.paths import OutputFile, check_output_paths

DEFAULT_MONTHS = 36


@click.command()
@click.argument("scenario", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--assets",
    "assets_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Asset register CSV (columns as in templates/assets.csv), added to the scenario's [[assets]]. "
    "Without any register, the scenario's [silicon] is the only asset.",
)
@click.option(
    "--drivers",
    "drivers_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Driver paths CSV: a month column and one column per driver. A column replaces the "
    "scenario's [drivers] path of the same name.",
)
@click.option(
    "--from",
    "first_month",
    required=True,
    metavar="YYYY-MM",
    help="First month of the schedule, as YYYY-MM. The horizon must lie within "
    "0001-01 to 9999-12.",
)
@click.option(
    "--months",
    # max is schedule.MAX_MONTHS, written out because importing it slows start-up.
    type=click.IntRange(min=1, max=600),
    default=DEFAULT_MONTHS,
    show_default=True,
    help="Number of months in the schedule.",
)
@click.option(
    "-o",
    "--output",
    type=OutputFile(),
    help="Workbook to write. Default: workbooks/token_bom_schedule_<scenario file name>.xlsx.",
)
@click.option("-q", "--quiet", is_flag=True, help="Print nothing on success.")
@handle_errors
def schedule(
    scenario: Path,
    assets_file: Path | None,
    drivers_file: Path | None,
    first_month: str,
    months: int,
    output: Path | None,
    quiet: bool,
) -> None:
    """Re-strike the Token BOM of SCENARIO for every month and write the workbook.

    Each month's BOM comes from the asset register (purchase month, price, life,
    method, salvage) and that month's drivers (throughput, utilization, yield, energy
    price, lifecycle cadence). The workbook's Schedule sheet computes every month
    with native formulas, splits the change in cost per good token by cause, and
    shows the over- or under-recovery of a rate fixed at the start of each fiscal
    year. Prints the quarterly roll-up.
    """
    from tokenbom_xl.drivers import read_driver_csv
    from tokenbom_xl.errors import InputError
    from tokenbom_xl.periods import parse_month
    from tokenbom_xl.register import read_asset_register
    from tokenbom_xl.scenario import load_scenario
    from tokenbom_xl.schedule import compute_schedule
    from tokenbom_xl.workbook import build_workbook, write_workbook

    try:
        start = parse_month(first_month.strip())
    except ValueError:
        raise InputError(
            f"--from {first_month!r} is invalid; give the first month as YYYY-MM, such as 2026-01"
        ) from None

    target = output or Path("workbooks") / f"token_bom_schedule_{scenario.stem}.xlsx"
    check_output_paths(
        [("--output" if output else "the default --output", target)],
        [
            ("SCENARIO", scenario),
            ("--assets", assets_file),
            ("--drivers", drivers_file),
        ],
    )
    model = load_scenario(scenario)
    assets = read_asset_register(assets_file) if assets_file is not None else None
    drivers = read_driver_csv(drivers_file) if drivers_file is not None else None
    result = compute_schedule(
        model, start=start, months=months, assets=assets, drivers=drivers
    )
    written = write_workbook(build_workbook(model, schedule=result), target)
    if quiet:
        return

    horizon = result.horizon
    click.echo(
        f"Wrote {written} ({model.name}): {horizon.months} months from {result.labels[0]}, "
        f"{len(result.table)} assets"
    )
    for line in summary_lines(result):
        click.echo(line)


def summary_lines(result) -> list[str]:
    """Return the quarterly table and the decay of cost per good token, as printed lines."""
    from tokenbom_xl.schedule import CAUSES

    cur = result.scenario.currency
    quarterly = result.quarterly
    # Money is formatted with the z option, so an amount that rounds to zero never
    # prints as -0.00.
    header = f"  {'quarter':<10} {'good tokens':>18} {'cost/M':>10} {'floor/M':>10} {'fixed rate/M':>13} {'over(+)/under(-)':>17}"
    lines = [header]
    for index, label in enumerate(quarterly.labels):
        last = int(quarterly.stop[index]) - 1
        lines.append(
            f"  {label:<10} {quarterly.good_tokens[index]:>18,.0f} "
            f"{quarterly.cost_per_good_token[index] * 1e6:>z10.4f} {quarterly.floor[index] * 1e6:>z10.4f} "
            f"{result.recovery.fixed_rate[last] * 1e6:>z13.4f} {quarterly.over_recovery[index]:>z17,.2f}"
        )
    first = result.cost_per_good_token[0] * 1e6
    last_value = result.cost_per_good_token[-1] * 1e6
    lines.append(
        f"  cost per good token {currency_text(first, cur)}/M in {result.labels[0]} -> "
        f"{currency_text(last_value, cur)}/M in {result.labels[-1]}"
    )
    if result.horizon.months > 1:
        parts = [
            f"{label.lower()} {part * 1e6:+z.4f}"
            for (_, label), part in zip(CAUSES, result.decay[:, 1:].sum(axis=1))
        ]
        lines.append("  by cause: " + ", ".join(parts))
    balance = result.recovery.balance_carried_forward[-1]
    lines.append(
        f"  balance carried forward after {result.labels[-1]}: {currency_text(balance, cur, decimals=2)}"
    )
    return lines
