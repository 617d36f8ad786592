"""``tokenbom meter``: read one period's telemetry, facility, serving, eval and ledger files."""

from __future__ import annotations

from pathlib import Path

import click

from tokenbom_xl.cli import handle_errors
from tokenbom_xl.cli.paths import OutputFile

_FILE_HELP = (
    "Repeatable, but each file once. Prefix FORMAT: to skip detection ({formats})."
)


def _file_option(name: str, kind: str, description: str):
    """Return the click option for one kind of source file, listing its formats."""
    from tokenbom_xl.metering.formats import FORMATS

    return click.option(
        f"--{name}",
        "inputs_" + kind,
        multiple=True,
        metavar="FILE",
        help=f"{description} {_FILE_HELP.format(formats=', '.join(FORMATS[kind]))}",
    )


@click.command()
@_file_option(
    "telemetry",
    "telemetry",
    "Accelerator telemetry: nvidia-smi CSV, DCGM or nvidia_gpu_exporter /metrics, Prometheus query_range JSON.",
)
@_file_option(
    "facility",
    "facility",
    "Facility PUE or power series (CSV, JSON) or a published per-site PUE table.",
)
@_file_option(
    "serving",
    "serving",
    "Serving tokens: vLLM /metrics, OpenAI-style usage (JSON, JSONL, SSE, cassettes), OTLP/JSON spans, or a serving log (Parquet, JSONL, CSV).",
)
@_file_option("eval", "eval", "Evaluation results: Inspect .json or .eval logs.")
@_file_option(
    "ledger", "ledger", "General ledger export (GL CSV) or depreciation profiles."
)
@click.option(
    "--period",
    required=True,
    metavar="YYYY-MM",
    help="The month to meter, e.g. 2026-11.",
)
@click.option(
    "-o",
    "--output",
    type=OutputFile(),
    default=Path("metered.toml"),
    show_default=True,
    help="Metered TOML to write.",
)
@click.option(
    "--usage-csv",
    type=OutputFile(),
    help="Also write good tokens by business unit and model as a chargeback usage CSV.",
)
@click.option(
    "--scenario",
    "scenario_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Scenario whose yield_rate fills models with no metered yield in --usage-csv.",
)
@click.option(
    "--include-outside-period",
    is_flag=True,
    help="Count records outside the period too (flagged on each source).",
)
@click.option(
    "--timezone",
    "naive_zone",
    default="UTC",
    show_default=True,
    help="Zone of timestamps written without one (nvidia-smi): UTC, +02:00 or an IANA name.",
)
@click.option(
    "--consumer-field",
    metavar="PATH",
    help="Dotted path of the business unit in usage records, e.g. metadata.team.",
)
@click.option(
    "--consumer-label",
    metavar="LABEL",
    help="Prometheus label that names the business unit.",
)
@click.option(
    "--consumer-attribute",
    metavar="KEY",
    help="OpenTelemetry attribute that names the business unit.",
)
@click.option(
    "--consumer-column",
    default="business_unit",
    show_default=True,
    help="Serving-log column that names the business unit.",
)
@click.option(
    "--model-map",
    multiple=True,
    metavar="FROM=TO",
    help="Rename a model so sources agree, e.g. gpt-4o-mini-2024-07-18=gpt-4o-mini. Repeatable.",
)
@click.option(
    "--scorer",
    help="Evaluation scorer that decides good tokens (default: each log's first scorer).",
)
@click.option(
    "--good-score",
    "good_scores",
    multiple=True,
    metavar="VALUE",
    help="Score value that counts as good (default C). Repeatable.",
)
@click.option(
    "--min-score",
    type=float,
    default=1.0,
    show_default=True,
    help="Numeric score at or above which a sample is good.",
)
@click.option(
    "--site",
    help="Site to take from a published PUE table: its exact name or a unique part of it.",
)
@click.option(
    "--nvidia-smi-fields",
    metavar="LIST",
    help="The --query-gpu field list of an nvidia-smi CSV written with noheader.",
)
@click.option(
    "--max-line-bytes",
    type=click.IntRange(min=1024),
    default=None,
    help="Maximum line length, in bytes (default 16 MiB).",
)
@click.option(
    "--max-document-bytes",
    type=click.IntRange(min=1024),
    default=None,
    help="Maximum size of a JSON or YAML document, in bytes (default 256 MiB).",
)
@click.option(
    "--max-decompressed-bytes",
    type=click.IntRange(min=1024),
    default=None,
    help="Maximum size, in bytes, that a gzip or zip input may decompress to (default 16 GiB).",
)
@click.option(
    "--max-compression-ratio",
    type=click.IntRange(min=1),
    default=None,
    help="Maximum ratio of decompressed bytes to bytes on disk for a gzip or zip "
    "input, checked once it has expanded past 16 MiB (default 200).",
)
@click.option("-q", "--quiet", is_flag=True, help="Print nothing on success.")
@handle_errors
def meter(**options: object) -> None:
    """Read one period's metering sources and write the metered TOML.

    Give any subset of sources, and repeat a source option for several files. What
    no source measured is listed, and `tokenbom build SCENARIO --metered FILE` takes
    it from the scenario. Each file's coverage, rejected rows and quality flags are printed and
    written into the TOML.
    """
    from tokenbom_xl.cli._meter_run import run_meter

    run_meter(options)
