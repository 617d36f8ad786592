"""Time TOKEN_COST over a 100,000-cell range: the Python layer against the bare engine.

The range is a column of 100,000 utilizations with a matching column of total costs
C(U). Capacity, yield and per_tokens are single values, as in a sensitivity table.
Each case is timed REPEATS times (each a batch of calls) and the median time per call
is printed, with its ratio to the bare engine.

Run from the repository root:

    python benchmarks/token_cost.py
"""

from __future__ import annotations

import statistics
import timeit

import numpy as np

from tokenbom_xl import engine
from tokenbom_xl.excel import token_cost

CELLS = 100_000
REPEATS = 15
CAPACITY = 4_204_800_000.0
FIXED_COST = 13_750.0
FULL_ENERGY_COST = 750.0
YIELD_RATE = 0.9
PER_TOKENS = 1_000_000.0


def median_seconds(function, calls: int) -> float:
    """Return the median time of one call of ``function`` over REPEATS batches."""
    function()  # warm-up
    batches = timeit.repeat(function, number=calls, repeat=REPEATS)
    return statistics.median(batches) / calls


def main() -> None:
    rng = np.random.default_rng(20240601)
    utilization = rng.uniform(0.01, 1.0, size=(CELLS, 1))
    total_cost = engine.total_cost(FIXED_COST, FULL_ENERGY_COST, utilization)
    utilization_rows = utilization.tolist()  # a 100,000 x 1 range as xlwings passes it
    total_cost_rows = total_cost.tolist()

    def bare_engine():
        per_token = engine.cost_per_good_token(
            total_cost, CAPACITY, utilization, YIELD_RATE
        )
        return engine.per_block(per_token, PER_TOKENS)

    def layer_on_arrays():
        return token_cost(total_cost, CAPACITY, utilization, YIELD_RATE, PER_TOKENS)

    def layer_on_rows():
        return token_cost(
            total_cost_rows, CAPACITY, utilization_rows, YIELD_RATE, PER_TOKENS
        )

    def layer_on_rows_to_rows():
        return layer_on_rows().tolist()

    def numpy_reads_rows():
        return np.asarray(total_cost_rows), np.asarray(utilization_rows)

    assert np.array_equal(bare_engine(), layer_on_arrays())
    assert np.array_equal(bare_engine(), layer_on_rows())

    cases = [
        ("bare engine on NumPy arrays", bare_engine, 200),
        ("Python layer on the same NumPy arrays", layer_on_arrays, 200),
        ("Python layer on lists of rows (as xlwings passes a range)", layer_on_rows, 3),
        (
            "  ... and the result as lists of rows (as xlwings returns it)",
            layer_on_rows_to_rows,
            3,
        ),
        ("for scale: np.asarray of the two lists of rows alone", numpy_reads_rows, 3),
    ]
    baseline = None
    print(f"TOKEN_COST over {CELLS:,} cells, median of {REPEATS} batches")
    for label, function, calls in cases:
        seconds = median_seconds(function, calls)
        baseline = baseline or seconds
        print(f"{label:<64} {seconds * 1e3:9.3f} ms  {seconds / baseline:7.2f}x")


if __name__ == "__main__":
    main()
