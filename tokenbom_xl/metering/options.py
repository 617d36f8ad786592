"""Settings shared by every reader, and the period filter they all apply."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, tzinfo

from tokenbom_xl.metering.inputs import ReadLimits
from tokenbom_xl.metering.report import SourceReport
from tokenbom_xl.metering.times import Period, is_valid_epoch

__all__ = ["UNASSIGNED", "GoodTokenRule", "ReadOptions"]

# The business unit of records that carry no consumer attribute or label.
UNASSIGNED = "unassigned"


@dataclass(frozen=True)
class GoodTokenRule:
    """Rule that decides which evaluated samples count as good output.

    A sample is good when its score (from ``scorer``, or the first scorer when None)
    is one of ``good_values`` (text scores such as Inspect's "C" for correct) or a
    number at least ``min_score``. Inspect's own conversion to numbers scores C as 1,
    P (partial) as 0.5 and I (incorrect) as 0.
    """

    scorer: str | None = None
    good_values: frozenset[str] = frozenset({"C"})
    min_score: float = 1.0

    def is_good(self, value: object) -> bool | None:
        """Return whether a score value is good, or None when it is not a score."""
        if isinstance(value, bool):
            return value
        if isinstance(value, float) and math.isnan(value):
            return None
        if isinstance(value, (int, float)):
            # Compared without conversion, so an integer too large for a float works.
            return value >= self.min_score
        if isinstance(value, str):
            text = value.strip()
            if text in self.good_values:
                return True
            try:
                return float(text) >= self.min_score
            except ValueError:
                return False
        return None

    def describe(self) -> str:
        """Return the rule in one line, such as "the first scorer: score in {C} or >= 1"."""
        scorer = self.scorer or "the first scorer"
        values = "/".join(sorted(self.good_values))
        return f"{scorer}: score in {{{values}}} or >= {self.min_score:g}"


@dataclass(frozen=True)
class ReadOptions:
    """Settings that every reader takes besides its file."""

    period: Period | None = None
    include_outside_period: bool = False
    naive_zone: tzinfo = UTC
    limits: ReadLimits = field(default_factory=ReadLimits)
    # Where each serving format names the business unit: a dotted path in a JSON
    # usage record (metadata.team), a Prometheus label (tenant), an OpenTelemetry
    # attribute (enduser.id) and a serving-log column.
    consumer_field: str | None = None
    consumer_label: str | None = None
    consumer_attribute: str | None = None
    consumer_column: str = "business_unit"
    model_map: dict[str, str] = field(default_factory=dict)
    good_rule: GoodTokenRule = field(default_factory=GoodTokenRule)
    site: str | None = None  # row of a published PUE table
    # The --query-gpu field list of an nvidia-smi file written without a header.
    nvidia_smi_fields: tuple[str, ...] = ()
    progress: bool = False  # show a progress bar on long aggregations (terminal only)

    def model_name(self, name: str) -> str:
        """Return the model name after the --model-map renames."""
        return self.model_map.get(name, name)

    def in_period(
        self,
        report: SourceReport,
        epoch_seconds: float | None,
        line: int | None = None,
        rows: int = 1,
    ) -> bool:
        """Return whether a record at ``epoch_seconds`` counts, updating the report.

        Records without a time always count. A time before 1970 or after 9999 (NaN
        and infinity included) cannot be a reading, so its record at ``line`` is
        rejected. Records outside the period are counted on the report and left out,
        unless ``include_outside_period`` is set. Then they count, and the report
        counts them in ``rows_used_outside_period`` and is flagged. ``rows`` is the
        number of rows that the record represents, such as the chunks of one stream.
        """
        if epoch_seconds is None:
            return True
        if not is_valid_epoch(epoch_seconds):
            report.reject(line, "timestamp not between 1970 and 9999")
            return False
        report.see_time(epoch_seconds)
        if self.period is None or self.period.contains(epoch_seconds):
            return True
        if self.include_outside_period:
            report.rows_used_outside_period += rows
            report.flag(
                "outside_period",
                f"records outside {self.period.label} were counted (--include-outside-period)",
                key="outside_period",
                count=rows,
            )
            return True
        report.rows_outside_period += rows
        report.flag(
            "outside_period",
            f"records outside {self.period.label} were left out",
            key="outside_period",
            count=rows,
        )
        return False
