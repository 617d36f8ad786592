"""Time `tokenbom schedule` on a 1,000-asset register over 60 months, as a whole process.

The script writes a seeded register into a temporary folder: accelerators, fabric and
facility fit-out, by straight-line, declining-balance and units-of-production, some
with a change of life. It runs the command several times and prints the median wall
time and the median CPU time, which varies less when other work shares the machine.
Run from the repository root:

    python benchmarks/schedule_build.py [--assets 1000] [--months 60] [--runs 5]
        [--method NAME] [--bought YYYY-MM]

``--method`` gives every row one depreciation method. Declining-balance and
units-of-production rows get one formula per month of their life on the Assets sheet,
so a register of only those, all bought in the first month (``--bought 2026-01``) with
lives longer than the schedule, is the slowest case.
"""

from __future__ import annotations

import argparse
import csv
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
SCENARIO = REPO_ROOT / "templates" / "schedule_factory.toml"


def write_register(
    path: Path,
    count: int,
    seed: int = 2026,
    only_method: str | None = None,
    bought: str | None = None,
) -> dict[str, int]:
    """Write a register of ``count`` rows; returns how many rows use each method."""
    rng = random.Random(seed)
    methods = {"straight-line": 0, "declining-balance": 0, "units-of-production": 0}
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [
                "asset_id",
                "asset_class",
                "purchase_month",
                "quantity",
                "unit_price",
                "life_months",
                "salvage",
                "method",
                "lifetime_tokens",
                "new_life_months",
                "life_change_month",
            ]
        )
        for number in range(count):
            asset_class = rng.choices(
                ["accelerator", "fabric", "facility-fit-out"], weights=[8, 1, 1]
            )[0]
            year, month = rng.randint(2021, 2026), rng.randint(1, 12)
            life = rng.choice([36, 48, 60, 72])
            if bought is not None:
                year, month = int(bought[:4]), int(bought[5:7])
                life = 72
            method = rng.choices(list(methods), weights=[7, 2, 1])[0]
            if only_method is not None:
                method = only_method
            price = rng.randint(20, 40) * 1000
            salvage = rng.choice([0, 0, price // 20])
            lifetime_tokens = (
                f"{rng.randint(10, 30)}000000000"
                if method == "units-of-production"
                else ""
            )
            new_life, change_month = "", ""
            if (
                method != "units-of-production"
                and bought is None
                and rng.random() < 0.1
            ):
                change_year = year + rng.randint(1, 2)
                new_life = str(max(life - 12, (change_year - year) * 12 + 1))
                change_month = f"{change_year}-{month:02d}"
            methods[method] += 1
            writer.writerow(
                [
                    f"asset-{number:04d}",
                    asset_class,
                    f"{year}-{month:02d}",
                    rng.randint(1, 16),
                    price,
                    life,
                    salvage,
                    method,
                    lifetime_tokens,
                    new_life,
                    change_month,
                ]
            )
    return methods


def count_monthly_formulas(path: Path) -> int:
    """Count the formula cells in the Assets sheet's monthly grid."""
    from openpyxl import load_workbook

    from tokenbom_xl.workbook.assets import FIRST_ASSET_ROW, GRID_FIRST_COLUMN

    sheet = load_workbook(path, read_only=True)["Assets"]
    count = 0
    for row in sheet.iter_rows(
        min_row=FIRST_ASSET_ROW, min_col=GRID_FIRST_COLUMN, values_only=True
    ):
        count += sum(
            1 for value in row if isinstance(value, str) and value.startswith("=")
        )
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assets", type=int, default=1000, help="rows in the register")
    parser.add_argument("--months", type=int, default=60, help="months in the schedule")
    parser.add_argument(
        "--runs", type=int, default=5, help="timed runs; the median is reported"
    )
    parser.add_argument(
        "--method",
        choices=["straight-line", "declining-balance", "units-of-production"],
        help="give every row this method (default: a mix of 70%% straight-line, 20%% declining-balance, 10%% units)",
    )
    parser.add_argument(
        "--bought",
        metavar="YYYY-MM",
        help="buy every row in this month, with a 72-month life",
    )
    options = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="tokenbom-bench-") as folder:
        register = Path(folder) / "assets.csv"
        methods = write_register(
            register, options.assets, only_method=options.method, bought=options.bought
        )
        output = Path(folder) / "schedule.xlsx"
        command = [
            sys.executable,
            "-m",
            "tokenbom_xl",
            "schedule",
            str(SCENARIO),
            "--assets",
            str(register),
            "--from",
            "2026-01",
            "--months",
            str(options.months),
            "-o",
            str(output),
            "-q",
        ]
        timings = []
        cpu_times = []
        for _ in range(options.runs):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            started = time.perf_counter()
            subprocess.run(command, check=True, cwd=REPO_ROOT)
            timings.append(time.perf_counter() - started)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu_times.append(
                after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
            )
        size = output.stat().st_size
        monthly_formulas = count_monthly_formulas(output)

    print(
        f"register: {options.assets} assets ({', '.join(f'{count} {name}' for name, count in methods.items())})"
    )
    print(f"schedule: {options.months} months; workbook {size / 1e6:.2f} MB")
    print(f"monthly formulas on the Assets sheet: {monthly_formulas}")
    print(f"runs: {', '.join(f'{value:.2f}' for value in timings)} s")
    print(
        f"median: {statistics.median(timings):.2f} s wall, {statistics.median(cpu_times):.2f} s CPU (user + system)"
    )
    print(
        "whole process: python -m tokenbom_xl schedule ... (interpreter start, imports, build, write)"
    )


if __name__ == "__main__":
    main()
