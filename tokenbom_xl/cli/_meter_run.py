"""The body of ``tokenbom meter``, imported only when the command runs."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import click

from tokenbom_xl.atomic import write_bytes_atomic
from tokenbom_xl.cli.paths import check_output_paths
from tokenbom_xl.errors import InputError
from tokenbom_xl.metering.bridge import FORMATS, MeterInputs, meter, split_format
from tokenbom_xl.metering.inputs import ReadLimits
from tokenbom_xl.metering.metered import (
    Metered,
    SourceEntry,
    metered_toml,
    usage_csv,
)
from tokenbom_xl.metering.options import GoodTokenRule, ReadOptions
from tokenbom_xl.metering.times import parse_period, parse_zone


def run_meter(options: dict[str, Any]) -> None:
    """Read the sources, write the metered TOML and usage CSV, and print a summary.

    The usage CSV is written only when --usage-csv is given.
    """
    read_options = _build_read_options(options)
    _check_outputs(options)
    inputs = MeterInputs(
        telemetry=options["inputs_telemetry"],
        facility=options["inputs_facility"],
        serving=options["inputs_serving"],
        eval=options["inputs_eval"],
        ledger=options["inputs_ledger"],
    )
    quiet = bool(options["quiet"])
    metered = meter(inputs, read_options)

    # Both outputs are prepared before either is written, so a bad usage request
    # leaves no metered file behind.
    toml_text = metered_toml(metered)
    usage_text = None
    if options["usage_csv"] is not None:
        scenario_yield = None
        if options["scenario_file"] is not None:
            from tokenbom_xl.scenario import load_scenario

            scenario_yield = load_scenario(options["scenario_file"]).yield_rate
        usage_text = usage_csv(metered, scenario_yield=scenario_yield)
    written = write_bytes_atomic(options["output"], toml_text.encode("utf-8"))
    if usage_text is not None:
        write_bytes_atomic(options["usage_csv"], usage_text.encode("utf-8"))
    if not quiet:
        _print_summary(metered, written, options["usage_csv"])


def _check_outputs(options: dict[str, Any]) -> None:
    """Reject an output that is an input file, after its FORMAT: prefix, or the other output."""
    inputs: list[tuple[str, str | Path | None]] = [
        ("--scenario", options["scenario_file"])
    ]
    for kind in FORMATS:
        for argument in options[f"inputs_{kind}"]:
            inputs.append((f"--{kind}", split_format(kind, argument)[1]))
    check_output_paths(
        [("--output", options["output"]), ("--usage-csv", options["usage_csv"])],
        inputs,
    )


def _build_read_options(options: dict[str, Any]) -> ReadOptions:
    """Build the readers' settings from the command's options.

    Raises:
        InputError: the period, the time zone or a --model-map item is invalid.
    """
    limits = ReadLimits()
    for name in (
        "max_line_bytes",
        "max_document_bytes",
        "max_decompressed_bytes",
        "max_compression_ratio",
    ):
        if options[name] is not None:
            limits = replace(limits, **{name: options[name]})
    model_map = _parse_model_map(options["model_map"])
    good_values = frozenset(options["good_scores"]) or GoodTokenRule().good_values
    fields = tuple(
        field.strip()
        for field in (options["nvidia_smi_fields"] or "").split(",")
        if field.strip()
    )
    return ReadOptions(
        period=parse_period(str(options["period"])),
        include_outside_period=bool(options["include_outside_period"]),
        naive_zone=parse_zone(str(options["naive_zone"])),
        limits=limits,
        consumer_field=options["consumer_field"],
        consumer_label=options["consumer_label"],
        consumer_attribute=options["consumer_attribute"],
        consumer_column=str(options["consumer_column"]),
        model_map=model_map,
        good_rule=GoodTokenRule(
            scorer=options["scorer"],
            good_values=good_values,
            min_score=float(options["min_score"]),
        ),
        site=options["site"],
        nvidia_smi_fields=fields,
        progress=True,
    )


def _parse_model_map(items: tuple[str, ...]) -> dict[str, str]:
    """Parse the --model-map FROM=TO items, rejecting two targets for one model."""
    model_map: dict[str, str] = {}
    item_by_source: dict[str, str] = {}
    for item in items:
        source, sep, target = item.partition("=")
        source, target = source.strip(), target.strip()
        if not sep or not source or not target:
            raise InputError(
                f"--model-map {item!r} is invalid; give FROM=TO, e.g. gpt-4o-mini-2024-07-18=gpt-4o-mini"
            )
        if source in model_map and model_map[source] != target:
            raise InputError(
                f"--model-map {item_by_source[source]!r} and --model-map {item!r} rename "
                f"{source!r} to two models; keep the one you mean"
            )
        model_map[source] = target
        item_by_source[source] = item
    return model_map


def _row_counts(source: SourceEntry) -> str:
    """Return a source's row counts as text: read, used, outside the period, rejected."""
    used = f"{source.rows_used:,} used"
    if source.rows_used_outside_period:
        used += (
            f" ({source.rows_used_outside_period:,} of them outside the period, "
            "counted by --include-outside-period)"
        )
    else:
        used += f", {source.rows_outside_period:,} outside the period"
    return f"{source.rows_read:,} rows read, {used}, {source.rows_rejected:,} rejected"


def _print_summary(metered: Metered, written: Path, usage_path: Path | None) -> None:
    """Print the files written, each source's counts and flags, and the figures."""
    click.echo(f"Wrote {written} (period {metered.period})")
    if usage_path is not None:
        click.echo(
            f"Wrote {usage_path} ({len(metered.tokens)} business unit and model rows)"
        )
    for source in metered.sources:
        click.echo(f"  {source.kind}: {source.file} [{source.format}]")
        click.echo(f"    {_row_counts(source)}; coverage {source.coverage}")
        if source.rejections:
            click.echo(f"    rejected: {source.rejection_text()}")
        for flag in source.flags:
            click.echo(
                f"    flag {flag.code}: {flag.message}"
                + (f" (x {flag.count})" if flag.count > 1 else "")
            )

    if metered.utilization is not None:
        click.echo(f"  utilization {metered.utilization.value:.4f}")
    if metered.energy is not None and metered.energy.mean_power_w is not None:
        click.echo(f"  mean accelerator power {metered.energy.mean_power_w:.1f} W")
    if metered.energy is not None and metered.energy.pue is not None:
        click.echo(f"  PUE {metered.energy.pue:.4f}")
    if metered.yield_rate is not None:
        click.echo(f"  yield {metered.yield_rate:.4f}")
    if metered.tokens:
        click.echo(
            f"  output tokens {sum(entry.output_tokens for entry in metered.tokens):,}"
        )
    if metered.taken_from_scenario:
        click.echo(
            "  not metered, taken from the scenario: "
            + ", ".join(metered.taken_from_scenario)
        )
    sys.stdout.flush()
