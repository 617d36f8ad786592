"""Time `tokenbom chargeback` and `tokenbom reconcile` as whole processes.

Generates the inputs into a temporary folder, then runs each command several times
and prints the median wall time:

- chargeback: 10,000 business units x 5 models x 12 periods (600,000 usage rows);
- reconcile: a GL export of 1,000,000 lines over 12 periods, 2,000 accounts and
  50 cost centres, against a 40-rule mapping.

Run: python benchmarks/bench_chargeback.py [--runs 5]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
SCENARIO = REPO / "templates" / "reference_factory.toml"

MODELS = (
    ("tiny-1b", 2000.0, 0.99),
    ("small-8b", 600.0, 0.97),
    ("mid-32b", 150.0, 0.95),
    ("large-70b", 60.0, 0.93),
    ("moe-400b", 25.0, 0.9),
)


def write_scenario(folder: Path) -> Path:
    """Write the reference factory grown to 2,048 accelerators with five models."""
    text = SCENARIO.read_text("utf-8").replace(
        "accelerators = 8 ", "accelerators = 2048 "
    )
    for name, speed, good in MODELS:
        text += f'\n[[models]]\nname = "{name}"\ntokens_per_second = {speed}\nyield_rate = {good}\n'
    path = folder / "factory.toml"
    path.write_text(text, "utf-8")
    return path


def write_usage(folder: Path, units: int = 10_000, periods: int = 12) -> Path:
    rng = np.random.default_rng(7)
    path = folder / "usage.csv"
    with path.open("w", encoding="utf-8") as handle:
        handle.write("period,business_unit,model,good_tokens,reserved_share\n")
        for period in range(1, periods + 1):
            tokens = rng.integers(0, 10_000_000, size=(units, len(MODELS)))
            for unit in range(units):
                share = "0.00005" if unit % 3 == 0 else ""
                for number, (name, _, _) in enumerate(MODELS):
                    handle.write(
                        f"2025-{period:02d},BU-{unit:05d},{name},{tokens[unit, number]},{share if number == 0 else ''}\n"
                    )
    return path


def write_ledger(folder: Path, lines: int = 1_000_000) -> tuple[Path, Path]:
    rng = np.random.default_rng(11)
    prefixes = ("161", "162", "620", "625", "640", "650", "700", "710")
    accounts = np.array([f"{prefixes[i % len(prefixes)]}{i:03d}" for i in range(2000)])
    account = accounts[rng.integers(0, len(accounts), size=lines)]
    centre = np.char.add("CC-", rng.integers(0, 50, size=lines).astype(str))
    period = np.char.add(
        "2025-", np.char.zfill(rng.integers(1, 13, size=lines).astype(str), 2)
    )
    amount = np.round(rng.uniform(-50, 500, size=lines), 2)
    path = folder / "gl.csv"
    with path.open("w", encoding="utf-8") as handle:
        handle.write("period,account,cost_centre,amount,description\n")
        for row in zip(period, account, centre, amount):
            handle.write(f"{row[0]},{row[1]},{row[2]},{row[3]:.2f},Posting {row[1]}\n")
    mapping = folder / "gl_map.csv"
    components = (
        "Silicon",
        "Fabric",
        "Facility",
        "Energy",
        "Platform",
        "Model Lifecycle",
        "Operations",
    )
    with mapping.open("w", encoding="utf-8") as handle:
        handle.write("match,account,account_to,component\n")
        for number, prefix in enumerate(prefixes[:-1]):
            for block in range(5):
                low, high = (
                    f"{prefix}{block * 200:03d}",
                    f"{prefix}{block * 200 + 199:03d}",
                )
                handle.write(
                    f"range,{low},{high},{components[number % len(components)]}\n"
                )
    return path, mapping


def median_seconds(command: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--runs", type=int, default=5, help="runs per command (default 5)"
    )
    args = parser.parse_args()
    # The tokenbom of the running interpreter's environment, else the one on PATH.
    beside = Path(sys.executable).with_name("tokenbom")
    tokenbom = (
        str(beside) if beside.is_file() else shutil.which("tokenbom") or "tokenbom"
    )
    with tempfile.TemporaryDirectory(prefix="tokenbom-bench-") as name:
        folder = Path(name)
        scenario = write_scenario(folder)
        usage = write_usage(folder)
        ledger, mapping = write_ledger(folder)
        chargeback = [
            tokenbom,
            "chargeback",
            str(scenario),
            "--usage",
            str(usage),
            "-o",
            str(folder / "cb.csv"),
            "-q",
        ]
        reconcile = [
            tokenbom,
            "reconcile",
            str(scenario),
            "--ledger",
            str(ledger),
            "--gl-map",
            str(mapping),
            "-o",
            str(folder / "rec.csv"),
            "-q",
        ]
        print(
            f"chargeback 10,000 units x 5 models x 12 periods: median {median_seconds(chargeback, args.runs):.2f} s over {args.runs} runs"
        )
        print(
            f"reconcile 1,000,000 GL lines: median {median_seconds(reconcile, args.runs):.2f} s over {args.runs} runs"
        )


if __name__ == "__main__":
    main()
