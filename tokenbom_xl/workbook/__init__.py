"""The standard Token BOM workbook, generated with openpyxl.

:func:`build_workbook` lays out the sheets. Every computed cell is a native Excel
formula over the named cells of the Inputs sheet. The engine's value for each one is
recorded, so the tests can compare the two after a LibreOffice recalculation.
:func:`write_workbook` saves byte-reproducibly and atomically.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from openpyxl import Workbook

from tokenbom_xl.engine import evaluate
from tokenbom_xl.metering.apply import AppliedMetering
from tokenbom_xl.scenario import Scenario
from tokenbom_xl.schedule import Schedule
from tokenbom_xl.tbm import TbmRoute, default_tbm_mapping
from tokenbom_xl.workbook.checks import add_core_checks, write_checks
from tokenbom_xl.workbook.components import write_component_sheets
from tokenbom_xl.workbook.context import BuildContext, Expectation
from tokenbom_xl.workbook.cover import write_cover
from tokenbom_xl.workbook.curve import write_curve
from tokenbom_xl.workbook.inputs import write_inputs
from tokenbom_xl.workbook.metering import write_metering
from tokenbom_xl.workbook.save import workbook_bytes, write_atomic
from tokenbom_xl.workbook.schedule import write_schedule_sheets
from tokenbom_xl.workbook.summary import write_summary

if TYPE_CHECKING:  # these pull in pandas, which a plain build does not need
    from tokenbom_xl.ledger import GlMap, Ledger
    from tokenbom_xl.usage import UsageData

__all__ = ["BuiltWorkbook", "build_workbook", "write_workbook"]


@dataclass(frozen=True)
class BuiltWorkbook:
    """A generated workbook with the engine's value for each formula cell."""

    workbook: Workbook
    expectations: list[Expectation]
    names: dict[str, str]  # defined name -> sheet reference

    def to_bytes(self) -> bytes:
        """Return the .xlsx bytes, serialized only once.

        openpyxl's writer renumbers charts and drawings in the workbook it writes, so
        a second pass over the same object would give different bytes.
        """
        return self._bytes

    @functools.cached_property
    def _bytes(self) -> bytes:
        return workbook_bytes(self.workbook)


def build_workbook(
    scenario: Scenario,
    *,
    tbm_routes: list[TbmRoute] | None = None,
    usage: UsageData | None = None,
    ledger: Ledger | None = None,
    gl_map: GlMap | None = None,
    metering: AppliedMetering | None = None,
    schedule: Schedule | None = None,
) -> BuiltWorkbook:
    """Lay out the standard BOM workbook for ``scenario``.

    With ``usage``, the workbook adds the Chargeback, TBM Mapping and Usage Data
    sheets. With ``ledger`` and ``gl_map`` (given together), it adds the Ledger
    Reconciliation, Ledger Data and GL Map sheets.

    ``metering`` adds the Metering sheet. Pass it with the scenario that
    :func:`~tokenbom_xl.metering.apply.apply_metered` returned.

    With ``schedule`` (from :func:`tokenbom_xl.schedule.compute_schedule` for the same
    scenario), the workbook also has the Schedule and Assets sheets.

    Raises:
        InputError: invalid usage or ledger for this scenario, or a ledger without a
            mapping.
    """
    workbook = Workbook()
    cover = workbook.active
    cover.title = "Cover"
    ctx = BuildContext(workbook=workbook, scenario=scenario, result=evaluate(scenario))
    routes = tbm_routes if tbm_routes is not None else default_tbm_mapping()

    write_inputs(ctx)
    write_component_sheets(ctx, routes)
    write_summary(ctx)
    write_curve(ctx)
    if usage is not None or ledger is not None or gl_map is not None:
        from tokenbom_xl.workbook.chargeback_ledger import write_chargeback_and_ledger

        write_chargeback_and_ledger(
            ctx, routes, usage=usage, ledger=ledger, gl_map=gl_map
        )
    add_core_checks(ctx)
    if metering is not None:
        write_metering(ctx, metering)
    if schedule is not None:
        write_schedule_sheets(ctx, schedule)
    write_checks(ctx)
    write_cover(ctx, cover)
    return BuiltWorkbook(
        workbook=workbook, expectations=ctx.expectations, names=dict(ctx.names)
    )


def write_workbook(built: BuiltWorkbook, path: str | Path) -> Path:
    """Save ``built`` to ``path`` reproducibly and atomically.

    :mod:`tokenbom_xl.workbook.save` describes how the bytes are made reproducible.
    """
    return write_atomic(path, built.to_bytes())
