"""``tokenbom build``: write the BOM workbook for a scenario."""

from __future__ import annotations

import math
from pathlib import Path

import click

from tokenbom_xl.cli import currency_text, handle_errors
from tokenbom_xl.cli.paths import OutputFile, check_output_paths
from tokenbom_xl.resources import template_path

DEFAULT_OUTPUT = Path("workbooks") / "token_bom_reference.xlsx"


@click.command()
@click.argument(
    "scenario", required=False, type=click.Path(dir_okay=False, path_type=Path)
)
@click.option(
    "-o",
    "--output",
    type=OutputFile(),
    help="Workbook to write. Default: workbooks/token_bom_reference.xlsx without SCENARIO, "
    "else workbooks/token_bom_<scenario file name>.xlsx.",
)
@click.option(
    "--usage",
    "usage_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Usage CSV; adds the Chargeback, TBM Mapping and Usage Data sheets.",
)
@click.option(
    "--ledger",
    "ledger_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="GL export CSV; with --gl-map, adds the Ledger Reconciliation, Ledger Data and GL Map sheets.",
)
@click.option(
    "--gl-map",
    "gl_map_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Account-to-component mapping CSV for --ledger.",
)
@click.option(
    "--tbm-map",
    "tbm_map_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="TBM mapping CSV. Default: templates/tbm_mapping.csv.",
)
@click.option("-q", "--quiet", is_flag=True, help="Print nothing on success.")
@click.option(
    "--metered",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Metered TOML from `tokenbom meter`: its measured inputs override the scenario's, "
    "and a Metering sheet shows the sources.",
)
@handle_errors
def build(
    scenario: Path | None,
    output: Path | None,
    quiet: bool,
    usage_path: Path | None = None,
    ledger_path: Path | None = None,
    gl_map_path: Path | None = None,
    tbm_map_path: Path | None = None,
    metered: Path | None = None,
) -> None:
    """Build the Token BOM workbook for SCENARIO (a TOML file).

    Without SCENARIO, builds the reference factory shipped in
    templates/reference_factory.toml. The workbook computes with native Excel
    formulas. The same input always gives the same bytes, and a failed run leaves
    any existing workbook untouched.
    """
    from tokenbom_xl.engine import evaluate
    from tokenbom_xl.errors import InputError
    from tokenbom_xl.scenario import load_scenario
    from tokenbom_xl.workbook import build_workbook, write_workbook

    if scenario is None:
        scenario_file = template_path("reference_factory.toml")
        target = output or DEFAULT_OUTPUT
    else:
        scenario_file = scenario
        target = output or Path("workbooks") / f"token_bom_{scenario.stem}.xlsx"

    check_output_paths(
        [("--output" if output else "the default --output", target)],
        [
            ("SCENARIO", scenario_file),
            ("--usage", usage_path),
            ("--ledger", ledger_path),
            ("--gl-map", gl_map_path),
            ("--tbm-map", tbm_map_path),
            ("--metered", metered),
        ],
    )

    model = load_scenario(scenario_file)
    metering = None
    if metered is not None:
        from tokenbom_xl.metering.apply import AppliedMetering, apply_metered
        from tokenbom_xl.metering.metered import load_metered

        measured = load_metered(metered)
        model, notes = apply_metered(model, measured)
        metering = AppliedMetering(measured, notes)

    try:
        result = evaluate(model)
    except InputError as exc:
        raise InputError(f"{scenario_file}: {exc}") from None
    if (ledger_path is None) != (gl_map_path is None):
        missing = "--gl-map" if gl_map_path is None else "--ledger"
        raise InputError(f"--ledger and --gl-map must be given together; add {missing}")
    extra = _read_data_files(usage_path, ledger_path, gl_map_path, tbm_map_path)
    if metering is not None:
        from tokenbom_xl.metering.apply import period_notes

        metering.notes.extend(
            period_notes(measured, usage=extra.get("usage"), ledger=extra.get("ledger"))
        )

    written = write_workbook(build_workbook(model, metering=metering, **extra), target)
    if quiet:
        return

    cur = model.currency
    click.echo(f"Wrote {written} ({model.name})")
    click.echo(f"  floor {currency_text(result.floor * 1e6, cur)}/M")
    click.echo(
        f"  cost per good token {currency_text(float(result.cost_per_good_token) * 1e6, cur)}/M "
        f"at U = {model.utilization:g}, Y = {model.yield_rate:g}"
    )
    price = currency_text(model.api_price_per_million, cur, decimals=0)
    crossover = float(result.crossover)
    if math.isnan(crossover):
        click.echo(
            f"  crossover utilization never at {price}/M: the factory cannot beat that price at this yield"
        )
    else:
        click.echo(f"  crossover utilization {crossover:.4f} at {price}/M")
    if metering is not None:
        for note in metering.notes:
            click.echo(f"  metered: {note}")


def _read_data_files(
    usage_path: Path | None,
    ledger_path: Path | None,
    gl_map_path: Path | None,
    tbm_map_path: Path | None,
) -> dict:
    """Read the optional data files into build_workbook's keyword arguments.

    The readers import pandas, so they are imported only when a file is given.
    """
    extra: dict = {}
    if tbm_map_path is not None:
        from tokenbom_xl.tbm import load_tbm_mapping

        extra["tbm_routes"] = load_tbm_mapping(tbm_map_path)
    if usage_path is not None:
        from tokenbom_xl.usage import read_usage

        extra["usage"] = read_usage(usage_path)
    if ledger_path is not None and gl_map_path is not None:
        from tokenbom_xl.ledger import read_gl_map, read_ledger

        extra["gl_map"] = read_gl_map(gl_map_path)
        extra["ledger"] = read_ledger(ledger_path)
    return extra
