"""Parity of the worksheet functions with the engine and with native Excel formulas.

Every function runs on a grid of input combinations, edge values included, and each
combination is computed four ways:

- the Python function on single values, one cell each;
- the same function once over whole columns, a spilled range;
- the bare engine kernels on arrays;
- a native formula in a workbook that LibreOffice recalculates.

All combinations of all functions sit in one workbook, so LibreOffice starts once.
Where the native formula gives an error value (#DIV/0!, #N/A), the function must
give the same one and the engine a NaN or infinity.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from conftest import REFERENCE_SCENARIO
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from tokenbom_xl import engine, excel
from tokenbom_xl.scenario import (
    load_scenario,
    scenario_from_parameters,
    scenario_parameters,
)
from tokenbom_xl.workbook.save import workbook_bytes

pytestmark = pytest.mark.libreoffice

K = 4_204_800_000.0
MINIMUM_COMBINATIONS = 200
REL = 1e-9


@dataclass(frozen=True)
class Grid:
    """One function's combinations and the native formula that computes the same value.

    ``rows`` hold the arguments as passed to the function, None for an empty cell;
    ``defaults`` give the value the sheet holds for an empty optional argument;
    ``formula`` uses {A}, {B}, ... for the argument cells of its row.
    """

    function: str
    arguments: tuple[str, ...]
    rows: list[tuple[Any, ...]]
    defaults: dict[str, Any]
    formula: str
    kernel: Callable[..., Any]

    def sheet_row(self, row: tuple[Any, ...]) -> list[Any]:
        return [
            self.defaults[name] if value is None else value
            for name, value in zip(self.arguments, row, strict=True)
        ]


def product(*axes):
    return list(itertools.product(*axes))


def silicon_rows():
    rows = []
    for accelerators, price, life, salvage_share, method in product(
        [1, 8],
        [1_000.0, 30_000.0],
        [1, 2, 12, 48, 240],
        [0.0, 0.1, 1.0],
        ["straight-line", "declining-balance"],
    ):
        ages = sorted({0, 1, life // 2, max(life - 1, 0), life, life + 3, 23, 24, 25})
        for age in ages:
            rows.append((accelerators, price, life, price * salvage_share, method, age))
    rows.append((8, 30_000.0, 48, None, None, None))
    return rows


GRIDS = [
    Grid(
        "token_capacity",
        ("accelerators", "tokens_per_second", "hours"),
        product(
            [0, 1, 2, 8, 64, 1_000, 1e6],
            [0, 0.5, 200, 5_000, 1e5],
            [0, 1, 730, 744, 8_784, None],
        ),
        {"hours": 730.0},
        "={A}*{B}*3600*{C}",
        lambda a, t, h: engine.token_capacity(a, t, h),
    ),
    Grid(
        "silicon_cost",
        (
            "accelerators",
            "unit_price",
            "life_months",
            "salvage",
            "method",
            "age_months",
        ),
        silicon_rows(),
        {"salvage": 0.0, "method": "straight-line", "age_months": 0},
        '=IF({F}<{C},{A}*IF({E}="declining-balance",VDB({B},{D},{C},{F},{F}+1,2,FALSE),SLN({B},{D},{C})),0)',
        lambda a, p, life, s, m, age: engine.silicon_charge(
            a, p, life, s, age, declining=m == "declining-balance"
        ),
    ),
    Grid(
        "energy_cost",
        ("it_kw", "pue", "price_per_kwh", "utilization", "hours", "idle_fraction"),
        product(
            [0, 8 / 1.5, 100],
            [1, 1.5, 5],
            [0, 0.12],
            [1e-6, 0.6, 1],
            [730, None],
            [0, 0.3, 1],
        ),
        {"hours": 730.0, "idle_fraction": 0.0},
        "={A}*{B}*{E}*{C}*({F}+(1-{F})*{D})",
        lambda it, pue, p, u, h, i: engine.energy_cost(
            engine.energy_full_cost(engine.wall_power(it, pue), h, p), u, i
        ),
    ),
    Grid(
        "token_cost",
        ("total_cost", "capacity_tokens", "utilization", "yield_rate", "per_tokens"),
        product(
            [0, 14_200, 1e9],
            [1, K, 1e15],
            [1e-6, 0.3, 0.6, 1],
            [1e-6, 0.9, 1, None],
            [1, 1e6, None],
        )
        # No good tokens: utilization, yield or capacity of exactly 0.
        + product([0, 14_200], [0, K], [0, 0.6], [0, 0.9], [1e6]),
        {"yield_rate": 1.0, "per_tokens": 1e6},
        "={A}/({B}*{C}*{D})*{E}",
        lambda c, k, u, y, per: engine.per_block(
            engine.cost_per_good_token(c, k, u, y), per
        ),
    ),
    Grid(
        "token_cost_floor",
        ("full_utilization_cost", "capacity_tokens", "per_tokens"),
        product(
            [0, 0.01, 1, 14_500, 1e6, 1e9, 1e12],
            [0, 1, 1_000, K, 1e12, 1e15],
            [1, 1_000, 1e6, 1e9, None],
        ),
        {"per_tokens": 1e6},
        "={A}/{B}*{C}",
        lambda c, k, per: engine.per_block(engine.cost_floor(c, k), per),
    ),
    Grid(
        "capacity_variance",
        ("fixed_cost", "utilization", "idle_energy_cost"),
        product(
            [0, 0.5, 1, 13_750, 1e6, 1e9, 1e12],
            [1e-9, 0.01, 0.25, 0.5, 0.6, 0.9, 0.999, 1],
            [0, 75, 1e4, None],
        ),
        {"idle_energy_cost": 0.0},
        "=({A}+{C})*(1-{B})",
        lambda f, u, e: engine.capacity_variance(f, u, e),
    ),
    Grid(
        "yield_loss",
        ("full_utilization_cost", "utilization", "yield_rate"),
        product(
            [0, 0.5, 1, 14_500, 1e6, 1e9, 1e12],
            [1e-9, 0.01, 0.5, 0.6, 0.999, 1],
            [1e-9, 0.1, 0.5, 0.9, 0.999, 1],
        ),
        {},
        "={B}*(1-{C})*{A}",
        lambda c, u, y: engine.yield_loss(c, u, y),
    ),
    Grid(
        "crossover_utilization",
        (
            "fixed_cost",
            "full_energy_cost",
            "capacity_tokens",
            "yield_rate",
            "api_price",
            "idle_fraction",
            "per_tokens",
        ),
        product(
            [0, 13_750, 1e6],
            [0, 750, 1e5],
            [K, 1e12],
            [0.5, 0.9, 1],
            [5, 50, 500],
            [0, 0.5, 1],
            [1e6, None],
        )
        # Never: a free or cheap API, or no capacity.
        + product([13_750], [0, 750], [0, K], [0.9], [0, 1, 5], [0, 0.5], [1e6]),
        {"idle_fraction": 0.0, "per_tokens": 1e6},
        "=IF({E}/{G}*{C}*{D}-(1-{F})*{B}<=0,NA(),"
        "IF(({A}+{F}*{B})/({E}/{G}*{C}*{D}-(1-{F})*{B})>1,NA(),({A}+{F}*{B})/({E}/{G}*{C}*{D}-(1-{F})*{B})))",
        lambda f, e, k, y, p, i, per: engine.crossover_utilization(
            f, e, k, y, engine.per_single_token(p, per), i
        ),
    ),
]


# ---------------------------------------------------------------------------
# TOKEN_BOM: one scenario per row, in the Inputs sheet's parameter names.

BOM_AXES = {
    "accelerators": [1, 8],
    "silicon_salvage": [0.0, 3_000.0],
    "utilization": [0.05, 0.6, 1.0],
    "yield_rate": [0.5, 0.9, 1.0],
    "silicon_method": ["straight-line", "declining-balance"],
    "silicon_age_months": [0, 30, 48],
    "energy_idle_fraction": [0.0, 0.4],
    "fabric_share_of_silicon": [0.0, 0.25],
}
BOM_LABELS = [
    "Silicon",
    "Fabric",
    "Facility",
    "Energy",
    "Platform",
    "Model Lifecycle",
    "Operations",
    "Total",
    "Floor",
    "Yield loss",
    "Capacity variance",
]


def bom_rows() -> tuple[list[str], list[list[Any]]]:
    base = {
        p.name: p.value for p in scenario_parameters(load_scenario(REFERENCE_SCENARIO))
    }
    names = list(base)
    rows = []
    for values in itertools.product(*BOM_AXES.values()):
        row = dict(base, **dict(zip(BOM_AXES, values, strict=True)))
        rows.append([row[name] for name in names])
    return names, rows


def bom_formulas(names: list[str], row: int) -> list[str]:
    """Return native formulas for the 11 costs, then 11 per-million figures and 11 shares."""
    cell = {
        name: f"{get_column_letter(index + 1)}{row}" for index, name in enumerate(names)
    }
    first = len(names) + 1
    cost = [f"{get_column_letter(first + index)}{row}" for index in range(11)]

    # Parts shared by several formulas: one accelerator's charge, C(1) and G.
    silicon_unit = (
        f'IF({cell["silicon_method"]}="declining-balance",'
        f"VDB({cell['silicon_unit_price']},{cell['silicon_salvage']},{cell['silicon_life_months']},"
        f"{cell['silicon_age_months']},{cell['silicon_age_months']}+1,2,FALSE),"
        f"SLN({cell['silicon_unit_price']},{cell['silicon_salvage']},{cell['silicon_life_months']}))"
    )
    full_cost = f"({cost[7]}-{cost[3]}+{cell['energy_full_load_cost']})"
    u, y, idle = cell["utilization"], cell["yield_rate"], cell["energy_idle_fraction"]
    good = f"({cell['accelerators']}*{cell['tokens_per_second']}*3600*{cell['hours_per_period']}*{u}*{y})"

    costs = [
        f"=IF({cell['silicon_age_months']}<{cell['silicon_life_months']},{cell['accelerators']}*{silicon_unit},0)",
        f"={cost[0]}*{cell['fabric_share_of_silicon']}",
        f"={cell['facility_monthly_cost']}",
        f"={cell['energy_full_load_cost']}*({idle}+(1-{idle})*{u})",
        f"={cell['platform_licences_monthly']}+{cell['platform_nodes']}*{cell['platform_fee_per_node']}"
        f"+{cell['platform_model_licences_monthly']}",
        f"={cell['model_lifecycle_cost_per_cycle']}*{cell['model_lifecycle_cycles_per_year']}/12"
        f"+{cell['model_lifecycle_labour_monthly']}",
        f"={cell['operations_fte']}*{cell['operations_annual_cost_per_fte']}/12*{cell['operations_share']}",
        f"=SUM({cost[0]}:{cost[6]})",
        f"={u}*{y}*{full_cost}",
        f"={u}*(1-{y})*{full_cost}",
        f"=({cost[7]}-{cost[3]}+{idle}*{cell['energy_full_load_cost']})*(1-{u})",
    ]
    per_million = [f"={cost[index]}/{good}*1000000" for index in range(11)]
    shares = [f"={cost[index]}/{cost[7]}" for index in range(11)]
    return costs + per_million + shares


# ---------------------------------------------------------------------------
# The workbook and its recalculation


@pytest.fixture(scope="module")
def recalculated(tmp_path_factory, recalc):
    workbook = Workbook()
    workbook.remove(workbook.active)
    for grid in GRIDS:
        ws = workbook.create_sheet(grid.function)
        ws.append([*grid.arguments, "native"])
        letters = {chr(ord("A") + index): None for index in range(len(grid.arguments))}
        for row_number, row in enumerate(grid.rows, start=2):
            ws.append(grid.sheet_row(row))
            cells = {letter: f"{letter}{row_number}" for letter in letters}
            ws.cell(
                row=row_number,
                column=len(grid.arguments) + 1,
                value=grid.formula.format(**cells),
            )

    names, rows = bom_rows()
    ws = workbook.create_sheet("token_bom")
    ws.append(names + [f"cost {label}" for label in BOM_LABELS])
    for row_number, row in enumerate(rows, start=2):
        ws.append(row + bom_formulas(names, row_number))

    path = tmp_path_factory.mktemp("parity") / "parity.xlsx"
    path.write_bytes(workbook_bytes(workbook))
    return recalc(path)


def native_column(recalculated, sheet: str, column: int, count: int) -> list[Any]:
    letter = get_column_letter(column)
    return [recalculated.value(sheet, f"{letter}{row}") for row in range(2, count + 2)]


def describe(value: Any) -> str:
    return repr(value) if isinstance(value, str) else f"{value:.17g}"


def mismatch(actual: Any, expected: Any) -> bool:
    """Return True unless both are the same error value or numbers within REL."""
    if isinstance(expected, str) or isinstance(actual, str):
        return actual != expected
    if actual is None or expected is None:
        return True
    return abs(actual - expected) > max(REL * abs(expected), 1e-12)


@pytest.mark.parametrize("grid", GRIDS, ids=[grid.function for grid in GRIDS])
def test_grid_is_large_enough(grid):
    assert len(grid.rows) >= MINIMUM_COMBINATIONS


@pytest.mark.parametrize("grid", GRIDS, ids=[grid.function for grid in GRIDS])
def test_function_matches_native_formula(grid, recalculated):
    native = native_column(
        recalculated, grid.function, len(grid.arguments) + 1, len(grid.rows)
    )
    function = getattr(excel, grid.function)
    failures = []
    for row, expected in zip(grid.rows, native, strict=True):
        actual = function(*row)
        if mismatch(actual, expected):
            failures.append(
                f"{grid.function}{row}: function {describe(actual)}, native {describe(expected)}"
            )
    assert not failures, f"{len(failures)} of {len(grid.rows)} differ:\n" + "\n".join(
        failures[:10]
    )


@pytest.mark.parametrize("grid", GRIDS, ids=[grid.function for grid in GRIDS])
def test_function_matches_engine(grid):
    function = getattr(excel, grid.function)
    columns = list(zip(*(grid.sheet_row(row) for row in grid.rows), strict=True))
    arrays = [np.array(column) for column in columns]
    with np.errstate(all="ignore"):
        expected = np.broadcast_to(grid.kernel(*arrays), (len(grid.rows),))
    failures = []
    for row, engine_value in zip(grid.rows, expected, strict=True):
        actual = function(*row)
        if isinstance(actual, str):
            if math.isfinite(engine_value):
                failures.append(
                    f"{grid.function}{row}: function {actual!r}, engine {engine_value!r}"
                )
        elif mismatch(actual, float(engine_value)):
            failures.append(
                f"{grid.function}{row}: function {describe(actual)}, engine {describe(engine_value)}"
            )
    assert not failures, f"{len(failures)} of {len(grid.rows)} differ:\n" + "\n".join(
        failures[:10]
    )


@pytest.mark.parametrize("grid", GRIDS, ids=[grid.function for grid in GRIDS])
def test_spilled_range_matches_single_cells(grid):
    function = getattr(excel, grid.function)
    columns = [[[value] for value in column] for column in zip(*grid.rows, strict=True)]
    spilled = function(*columns)
    assert spilled.shape == (len(grid.rows), 1)
    failures = []
    for index, row in enumerate(grid.rows):
        single = function(*row)
        if spilled[index, 0] != single:
            failures.append(
                f"{grid.function}{row}: range {spilled[index, 0]!r}, single {single!r}"
            )
    assert not failures, "\n".join(failures[:10])


def test_token_bom_matches_native_formulas(recalculated):
    names, rows = bom_rows()
    assert len(rows) >= MINIMUM_COMBINATIONS
    failures = []
    for row_number, row in enumerate(rows, start=2):
        table = excel.token_bom([list(pair) for pair in zip(names, row, strict=True)])
        assert [line[0] for line in table] == BOM_LABELS, table
        for column_offset, column_name in enumerate(["cost", "per million", "share"]):
            for index, label in enumerate(BOM_LABELS):
                column = len(names) + 1 + column_offset * 11 + index
                expected = recalculated.value(
                    "token_bom", f"{get_column_letter(column)}{row_number}"
                )
                actual = table[index][1 + column_offset]
                if mismatch(actual, expected):
                    failures.append(
                        f"row {row_number} {label} {column_name}: {describe(actual)} vs {describe(expected)}"
                    )
    assert not failures, f"{len(failures)} differ:\n" + "\n".join(failures[:10])


def test_token_bom_matches_engine():
    names, rows = bom_rows()
    for row in rows:
        pairs = list(zip(names, row, strict=True))
        lines = engine.bom_lines(engine.evaluate(scenario_from_parameters(pairs)))
        table = excel.token_bom([list(pair) for pair in pairs])
        assert [
            [line.label, line.cost, line.per_good_token * 1e6, line.share]
            for line in lines
        ] == table
