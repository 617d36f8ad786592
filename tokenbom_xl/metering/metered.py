"""The metered TOML: one period's measured inputs and the reports of their sources.

``tokenbom meter`` writes it and ``tokenbom build --metered`` reads it. Each table is
present only when some source measured it, and ``taken_from_scenario`` lists what no
source measured. Money stays text (``"1234.56"``), so no binary float rounds a
booked amount. The file is validated on load as strictly as a scenario.
"""

from __future__ import annotations

import csv
import io
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tokenbom_xl.errors import InputError

__all__ = [
    "BookedEntry",
    "EnergyEntry",
    "Metered",
    "ProfileEntry",
    "SourceEntry",
    "TokenEntry",
    "UtilizationEntry",
    "YieldEntry",
    "load_metered",
    "metered_toml",
    "usage_csv",
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RejectionEntry(_Model):
    """Rows of one source rejected for one reason, with their first line numbers."""

    reason: str
    count: int = Field(ge=0)
    lines: list[int] = []


class FlagEntry(_Model):
    """Quality flag of one source, with its count and first line."""

    code: str
    message: str
    count: int = Field(ge=1)
    line: int | None = None


class SourceEntry(_Model):
    """One input file with its reader's row counts, rejections, flags and notes."""

    kind: str
    format: str
    file: str
    first_time: str = ""  # ISO 8601 UTC, blank when the file has no timestamps
    last_time: str = ""
    rows_read: int = Field(ge=0)
    rows_used: int = Field(ge=0)
    rows_outside_period: int = Field(ge=0)  # left out because outside the period
    rows_rejected: int = Field(ge=0)
    # Rows counted in rows_used although outside the period (--include-outside-period).
    rows_used_outside_period: int = Field(default=0, ge=0)
    rejections: list[RejectionEntry] = []
    flags: list[FlagEntry] = []
    notes: list[str] = []

    @property
    def coverage(self) -> str:
        """The covered time as 'first to last', or a note that it is unknown."""
        if not self.first_time:
            return "unknown (no timestamps)"
        return f"{self.first_time} to {self.last_time}"

    def rejection_text(self) -> str:
        parts = []
        for rejection in self.rejections:
            where = ", ".join(str(line) for line in rejection.lines)
            more = ", ..." if rejection.count > len(rejection.lines) else ""
            parts.append(
                f"{rejection.count} x {rejection.reason}"
                + (f" (line {where}{more})" if rejection.lines else "")
            )
        return "; ".join(parts)

    def flag_text(self) -> str:
        parts = []
        for flag in self.flags:
            text = f"{flag.code}: {flag.message}"
            if flag.line:
                text += f" (first at line {flag.line})"
            if flag.count > 1:
                text += f" x {flag.count}"
            parts.append(text)
        return "; ".join(parts)


class UtilizationEntry(_Model):
    """Busy share of the accelerator time that telemetry covered."""

    value: float = Field(ge=0, le=1)
    busy_accelerator_seconds: float = Field(ge=0)
    observed_accelerator_seconds: float = Field(gt=0)
    accelerators_seen: int = Field(ge=1)
    # If False, value is a mean of point readings and the seconds fields count
    # readings instead of seconds.
    timed: bool
    sources: list[str] = []


class EnergyEntry(_Model):
    """Accelerator power and facility PUE."""

    mean_power_w: float | None = Field(default=None, ge=0)
    it_kwh: float | None = Field(default=None, ge=0)
    observed_accelerator_hours: float | None = Field(default=None, ge=0)
    full_load_power_w: float | None = Field(default=None, gt=0)
    idle_power_w: float | None = Field(default=None, ge=0)
    power_sources: list[str] = []
    pue: float | None = Field(default=None, ge=1, le=5)
    pue_sources: list[str] = []


class TokenEntry(_Model):
    """Output tokens made for one business unit and model."""

    business_unit: str
    model: str
    output_tokens: int = Field(ge=0)
    input_tokens: int = Field(ge=0)
    requests: int = Field(ge=0)
    yield_rate: float | None = Field(default=None, ge=0, le=1)
    good_tokens: int | None = Field(default=None, ge=0)
    scrapped_tokens: int | None = Field(default=None, ge=0)


class YieldEntry(_Model):
    """Evaluated samples of one model and the good share of their output tokens."""

    model: str
    yield_rate: float = Field(ge=0, le=1)
    samples: int = Field(ge=1)
    good_samples: int = Field(ge=0)
    output_tokens: int = Field(ge=0)
    good_output_tokens: int = Field(ge=0)


class BookedEntry(_Model):
    """The period's bookings on one account and cost centre."""

    account: str
    cost_centre: str = ""
    amount: str  # a decimal as text, exact
    lines: int = Field(ge=1)


class ProfileEntry(_Model):
    """Depreciation profile from the ledger: an asset class and its life."""

    name: str
    asset_account: str = ""
    expense_account: str = ""
    life_months: int = Field(gt=0)


class Metered(_Model):
    """One period's metered inputs."""

    period: str = Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")
    generated_by: str = ""
    utilization: UtilizationEntry | None = None
    energy: EnergyEntry | None = None
    yield_rate: float | None = Field(default=None, ge=0, le=1)
    yield_basis: str = ""
    tokens: list[TokenEntry] = []
    yields: list[YieldEntry] = []
    booked: list[BookedEntry] = []
    depreciation_profiles: list[ProfileEntry] = []
    taken_from_scenario: list[str] = []
    sources: list[SourceEntry] = []


def metered_toml(metered: Metered) -> str:
    """Serialize ``metered`` to TOML, leaving out unset values because TOML has no null."""
    import tomli_w

    return tomli_w.dumps(metered.model_dump(mode="json", exclude_none=True))


def load_metered(path: str | Path) -> Metered:
    """Read and validate a metered TOML file.

    Raises:
        InputError: the file is missing, not TOML, or fails validation. Each
            message names the file and the field.
    """
    path = Path(path)
    try:
        data = tomllib.loads(path.read_bytes().decode("utf-8"))
    except FileNotFoundError:
        raise InputError(
            f"{path}: metered file not found; write it with tokenbom meter"
        ) from None
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{path}: not UTF-8 text (byte {exc.start}); write it again with tokenbom meter"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: not valid TOML: {exc}") from None
    except RecursionError:
        # tomllib parses nested arrays and inline tables recursively.
        raise InputError(
            f"{path}: not valid TOML: arrays or tables nested too deeply; write it "
            "again with tokenbom meter"
        ) from None
    except OSError as exc:
        raise InputError(
            f"{path}: failed to read the metered file: {exc.strerror}"
        ) from None
    try:
        return Metered.model_validate(data)
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            field = ".".join(str(part) for part in error["loc"])
            lines.append(
                f"{path}: {field}: {error['msg'].lower()} (value {_describe_value(error.get('input'))})"
            )
        raise InputError("\n".join(lines)) from None


def _describe_value(value: Any) -> str:
    """Return a value's repr, or only its type name for a table or an array."""
    return type(value).__name__ if isinstance(value, (dict, list)) else repr(value)


# Columns of the chargeback usage CSV, in order.
USAGE_COLUMNS = ("period", "business_unit", "model", "good_tokens", "reserved_share")


def usage_csv(metered: Metered, *, scenario_yield: float | None = None) -> str:
    """Return the usage CSV that chargeback reads: good tokens by business unit and model.

    ``reserved_share`` is left blank, because reservations are a commercial input
    and not a measurement. A model with no metered yield uses ``scenario_yield``.

    Raises:
        InputError: a model has no metered yield and no scenario yield was given.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(USAGE_COLUMNS)
    for entry in metered.tokens:
        good = entry.good_tokens
        if good is None:
            if scenario_yield is None:
                raise InputError(
                    f"model {entry.model!r} has no metered yield, so its good tokens are unknown; "
                    "give --eval results for it, or --scenario to use the scenario's yield_rate"
                )
            # Halves round up, as for metered yields in the bridge.
            good = int(entry.output_tokens * scenario_yield + 0.5)
        # Names are written exactly as the sources gave them, even one that starts
        # with '='. The chargeback reader and the workbook keep them as text.
        writer.writerow([metered.period, entry.business_unit, entry.model, good, ""])
    return buffer.getvalue()
