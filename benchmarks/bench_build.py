"""Benchmark `tokenbom build` as a whole process, and the engine on 1,000,000 points.

Prints median wall-clock times. The build's target is under 1.5 s as a whole
process on a 2-core machine. `engine.evaluate` should stay within 3x of the same
arithmetic written as a bare NumPy expression.

    python benchmarks/bench_build.py [--runs 15]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from tokenbom_xl import engine
from tokenbom_xl.resources import template_path
from tokenbom_xl.scenario import load_scenario

POINTS = 1_000_000


def median_seconds(action, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def bench_build(runs: int) -> float:
    with tempfile.TemporaryDirectory() as folder:
        command = [
            sys.executable,
            "-m",
            "tokenbom_xl",
            "build",
            "-q",
            "-o",
            str(Path(folder) / "bom.xlsx"),
        ]
        subprocess.run(command, check=True)  # warm the file cache
        return median_seconds(lambda: subprocess.run(command, check=True), runs)


def bench_engine(runs: int) -> tuple[float, float]:
    scenario = load_scenario(template_path("reference_factory.toml"))
    rng = np.random.default_rng(7)
    utilization = rng.uniform(0.01, 1.0, POINTS)
    yield_rate = rng.uniform(0.01, 1.0, POINTS)

    components = engine.component_costs(scenario)
    fixed, energy_full, idle = (
        components.fixed,
        components.energy_full,
        components.idle_fraction,
    )
    capacity = (
        scenario.accelerators
        * scenario.tokens_per_second
        * 3600.0
        * scenario.hours_per_period
    )
    full_cost = fixed + energy_full
    price = scenario.api_price_per_million / 1e6

    def bare() -> None:
        # The same figures evaluate() returns, written inline.
        u, y = utilization, yield_rate
        energy = energy_full * (idle + (1 - idle) * u)
        total = fixed + energy
        good = capacity * u * y
        _ = total / good
        _ = u * y * full_cost
        _ = u * (1 - y) * full_cost
        _ = (fixed + idle * energy_full) * (1 - u)
        denominator = price * capacity * y - (1 - idle) * energy_full
        crossover = (fixed + idle * energy_full) / denominator
        _ = np.where((denominator > 0) & (crossover <= 1), crossover, np.nan)

    engine_time = median_seconds(
        lambda: engine.evaluate(scenario, utilization, yield_rate), runs
    )
    bare_time = median_seconds(bare, runs)
    return engine_time, bare_time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--runs", type=int, default=15, help="repetitions per measurement"
    )
    args = parser.parse_args()

    build = bench_build(args.runs)
    print(
        f"tokenbom build, whole process: median {build:.3f} s over {args.runs} runs (target < 1.5 s)"
    )
    engine_time, bare_time = bench_engine(args.runs)
    ratio = engine_time / bare_time
    print(
        f"engine.evaluate on {POINTS:,} (U, Y) points: median {engine_time * 1e3:.1f} ms"
    )
    print(f"bare NumPy expression, same points:        median {bare_time * 1e3:.1f} ms")
    print(f"ratio {ratio:.2f}x (target <= 3x)")


if __name__ == "__main__":
    main()
