"""Benchmark: aggregate a 20,000,000-record Parquet serving log by period, business unit and model.

Compares tokenbom_xl's serving-log reader with the bare DuckDB GROUP BY over the same
file. The reader also classifies every record as valid, outside the period or
rejected with a reason. Each variant's median wall time and peak memory (maximum
resident set size) are printed. Each run is a fresh Python process, so one run's
caches and memory do not carry into the next. The timer covers the aggregation,
not the interpreter's start.

    python benchmarks/serving_log.py [--records N] [--runs N] [--file PATH]

The generated file (about 300 MB) goes to benchmarks/out/, which git ignores.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

OUT = Path(__file__).resolve().parent / "out"

# Pseudo-random but reproducible records: hash() spreads them over three months,
# 50 business units, 5 models and 1 to 900 output tokens.
GENERATE = """
COPY (
    SELECT
        TIMESTAMP '2026-09-01' + to_microseconds(CAST(hash(i) % 7776000000000 AS BIGINT)) AS timestamp,
        'bu-' || lpad(CAST(hash(i + 1) % 50 AS VARCHAR), 2, '0') AS business_unit,
        ['llama-8b', 'llama-70b', 'qwen-7b', 'mixtral-8x7b', 'gpt-oss-20b'][1 + CAST(hash(i + 2) % 5 AS INTEGER)] AS model,
        CAST(1 + hash(i + 3) % 900 AS BIGINT) AS output_tokens,
        CAST(1 + hash(i + 4) % 3000 AS BIGINT) AS input_tokens
    FROM range({records}) AS t(i)
) TO '{path}' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 1000000)
"""

# Run inside a fresh interpreter; prints seconds and peak RSS in KiB as JSON.
READER = """
import json, resource, sys, time
import duckdb  # imported before the timer, as in DIRECT
from tokenbom_xl.metering.options import ReadOptions
from tokenbom_xl.metering.serving_log import aggregate_serving_log
start = time.perf_counter()
result = aggregate_serving_log(sys.argv[1], ReadOptions())
seconds = time.perf_counter() - start
groups = sum(len(counts.totals) for counts in result.by_period.values())
print(json.dumps({"seconds": seconds, "rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "groups": groups, "rows": result.report.rows_read}))
"""

DIRECT = """
import json, resource, sys, time
import duckdb
start = time.perf_counter()
connection = duckdb.connect()
connection.execute("SET enable_progress_bar_print = false")
rows = connection.execute(
    "SELECT strftime(timestamp, '%Y-%m') AS period, business_unit, model, "
    "sum(output_tokens), sum(input_tokens), count(*) "
    f"FROM read_parquet('{sys.argv[1]}') GROUP BY ALL"
).fetchall()
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "groups": len(rows), "rows": sum(r[5] for r in rows)}))
"""


def generate(path: Path, records: int) -> None:
    import duckdb

    path.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    duckdb.connect().execute(GENERATE.format(records=records, path=path))
    print(
        f"generated {records:,} records in {time.perf_counter() - started:.1f} s: {path} ({path.stat().st_size / 1e6:.0f} MB)"
    )


def measure(code: str, path: Path) -> dict[str, float]:
    completed = subprocess.run(
        [sys.executable, "-c", code, str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    lines = [line for line in completed.stdout.splitlines() if line.startswith("{")]
    return json.loads(lines[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=20_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--file", type=Path, default=None, help="Parquet file to use or create"
    )
    arguments = parser.parse_args()
    path = arguments.file or OUT / f"serving_log_{arguments.records}.parquet"
    if not path.exists():
        generate(path, arguments.records)

    results: dict[str, list[dict[str, float]]] = {
        "tokenbom_xl reader": [],
        "bare DuckDB GROUP BY": [],
    }
    for _ in range(arguments.runs):
        # Alternate, so a slow moment on a shared machine hits both alike.
        results["tokenbom_xl reader"].append(measure(READER, path))
        results["bare DuckDB GROUP BY"].append(measure(DIRECT, path))

    medians = {}
    for name, runs in results.items():
        seconds = statistics.median(run["seconds"] for run in runs)
        peak = max(run["rss_kib"] for run in runs) / 1024
        medians[name] = seconds
        print(
            f"{name:22s} median {seconds:.2f} s over {len(runs)} runs, peak RSS {peak:.0f} MiB, {int(runs[0]['groups'])} groups, {int(runs[0]['rows']):,} rows"
        )
    ratio = medians["tokenbom_xl reader"] / medians["bare DuckDB GROUP BY"]
    print(f"ratio {ratio:.2f}x (target: within 1.5x)")


if __name__ == "__main__":
    main()
