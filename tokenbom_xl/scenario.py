"""Scenario input: one factory and one period, validated by pydantic.

A scenario is a TOML file. Top-level keys describe the factory and the period
(accelerators, throughput, utilization, yield, hours, currency, API price). One table
per cost component gives that component's basis. The models here are the single
source of truth for field names, units and allowed ranges: the workbook's Inputs
sheet, the worksheet functions' ``inputs`` range and the error messages all take
them from here.

Numbers are validated strictly, so ``unit_price = "30000"`` (a TOML string) is an
error rather than a silent conversion.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

import annotated_types
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from tokenbom_xl.drivers import (
    DRIVER_NAMES,
    Drivers,
    allowed_path_text,
    allowed_value_text,
)
from tokenbom_xl.errors import InputError, number_text
from tokenbom_xl.periods import MonthText
from tokenbom_xl.register import Asset
from tokenbom_xl.restrike import Restrike
from tokenbom_xl.textfile import read_text_file

__all__ = [
    "COMPONENTS",
    "SCHEDULE_SECTIONS",
    "ChargebackPolicy",
    "EnergyPhysical",
    "EnergyStated",
    "FabricCapex",
    "FabricShare",
    "FacilityFixed",
    "FacilityPerKw",
    "FacilityPerRack",
    "ModelDefinition",
    "ModelLifecycle",
    "Operations",
    "Parameter",
    "Platform",
    "ReconciliationPolicy",
    "Scenario",
    "Silicon",
    "load_scenario",
    "parse_scenario",
    "scenario_from_parameters",
    "scenario_hash",
    "scenario_parameters",
    "serving_models",
]

# The seven components in BOM order, as (key, display name).
COMPONENTS: tuple[tuple[str, str], ...] = (
    ("silicon", "Silicon"),
    ("fabric", "Fabric"),
    ("facility", "Facility"),
    ("energy", "Energy"),
    ("platform", "Platform"),
    ("model_lifecycle", "Model Lifecycle"),
    ("operations", "Operations"),
)


class _Model(BaseModel):
    model_config = ConfigDict(
        strict=True, extra="forbid", frozen=True, allow_inf_nan=False
    )


def _money(description: str, **constraints: Any) -> Any:
    return Field(
        ge=0,
        description=description,
        json_schema_extra={"unit": "money"},
        **constraints,
    )


class Silicon(_Model):
    """Accelerators, depreciated monthly."""

    unit_price: float = Field(
        gt=0,
        description="purchase price of one accelerator",
        json_schema_extra={"unit": "money"},
    )
    life_months: int = Field(
        gt=0,
        le=240,
        description="depreciation life",
        json_schema_extra={"unit": "months"},
    )
    salvage: float = _money(
        "salvage value of one accelerator at the end of its life", default=0.0
    )
    method: Literal["straight-line", "declining-balance"] = Field(
        default="straight-line",
        description="depreciation method; declining-balance is double declining with a switch to straight-line",
    )
    # Fifty years. Any age from life_months (at most 240) on charges nothing, so a
    # larger age is taken for a typing error.
    age_months: int = Field(
        default=0,
        ge=0,
        le=600,
        description="months already depreciated before this period",
        json_schema_extra={"unit": "months"},
    )

    @model_validator(mode="after")
    def _salvage_below_price(self) -> Silicon:
        if self.salvage >= self.unit_price:
            raise ValueError(
                f"salvage ({number_text(self.salvage)}) must be less than unit_price "
                f"({number_text(self.unit_price)}); lower the salvage value"
            )
        return self


class FabricShare(_Model):
    """Fabric as a share of the Silicon charge."""

    basis: Literal["share-of-silicon"]
    share_of_silicon: float = Field(
        ge=0,
        le=10,
        description="Fabric charge as a fraction of Silicon",
        json_schema_extra={"unit": "fraction"},
    )


class FabricCapex(_Model):
    """Fabric as its own capital, amortized straight-line."""

    basis: Literal["capex"]
    capex: float = _money("network, head-node and local-storage capital")
    life_months: int = Field(
        gt=0,
        le=240,
        description="amortization life",
        json_schema_extra={"unit": "months"},
    )


class FacilityFixed(_Model):
    basis: Literal["fixed"]
    monthly_cost: float = _money("fixed plant and rack cost per period")


class FacilityPerRack(_Model):
    basis: Literal["per-rack"]
    racks: float = Field(
        gt=0, description="racks occupied", json_schema_extra={"unit": "racks"}
    )
    cost_per_rack: float = _money("cost of one rack per period")


class FacilityPerKw(_Model):
    basis: Literal["per-kw"]
    provisioned_kw: float = Field(
        gt=0, description="provisioned power", json_schema_extra={"unit": "kW"}
    )
    cost_per_kw: float = _money("cost of one provisioned kW per period")


class EnergyStated(_Model):
    """Energy from a stated full-load amount per period (an invoice or a budget)."""

    basis: Literal["stated"]
    full_load_cost: float = _money("energy cost per period at full utilization")
    idle_fraction: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description="share of full-load power drawn while idle",
        json_schema_extra={"unit": "fraction"},
    )


class EnergyPhysical(_Model):
    """Energy from power and price: wall kW, or IT kW times PUE."""

    basis: Literal["physical"]
    wall_kw: float | None = Field(
        default=None,
        gt=0,
        description="full-load power at the wall, PUE included",
        json_schema_extra={"unit": "kW"},
    )
    it_kw: float | None = Field(
        default=None,
        gt=0,
        description="full-load IT power",
        json_schema_extra={"unit": "kW"},
    )
    pue: float | None = Field(
        default=None,
        ge=1,
        le=5,
        description="power usage effectiveness",
        json_schema_extra={"unit": "ratio"},
    )
    price_per_kwh: float = Field(
        ge=0, description="energy price", json_schema_extra={"unit": "money/kWh"}
    )
    idle_fraction: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description="share of full-load power drawn while idle",
        json_schema_extra={"unit": "fraction"},
    )

    @model_validator(mode="after")
    def _one_power_form(self) -> EnergyPhysical:
        it_form = self.it_kw is not None or self.pue is not None
        if self.wall_kw is not None and it_form:
            raise ValueError("give either wall_kw, or it_kw and pue, not both")
        if self.wall_kw is None and (self.it_kw is None or self.pue is None):
            raise ValueError("give wall_kw, or both it_kw and pue")
        return self

    @property
    def full_load_kw(self) -> float:
        """Power at the wall at full utilization, in kW."""
        if self.wall_kw is not None:
            return self.wall_kw
        return self.it_kw * self.pue  # type: ignore[operator]


class Platform(_Model):
    licences_monthly: float = _money(
        "serving and orchestration licences per period", default=0.0
    )
    nodes: int = Field(
        default=0,
        ge=0,
        description="nodes that pay a per-node fee",
        json_schema_extra={"unit": "nodes"},
    )
    fee_per_node: float = _money("per-node fee per period", default=0.0)
    model_licences_monthly: float = _money("model licences per period", default=0.0)


class ModelLifecycle(_Model):
    cost_per_cycle: float = _money(
        "compute cost of one tuning, retraining and evaluation cycle", default=0.0
    )
    cycles_per_year: float = Field(
        default=0.0,
        ge=0,
        le=365,
        description="cycles per year",
        json_schema_extra={"unit": "cycles/year"},
    )
    labour_monthly: float = _money(
        "tuning and evaluation labour per period", default=0.0
    )


class Operations(_Model):
    fte: float = Field(
        ge=0,
        description="platform-team full-time equivalents",
        json_schema_extra={"unit": "FTE"},
    )
    annual_cost_per_fte: float = _money("fully loaded annual cost of one FTE")
    share: float = Field(
        default=1.0,
        ge=0,
        le=1,
        description="share of the team allocated to this factory",
        json_schema_extra={"unit": "fraction"},
    )


class ModelDefinition(_Model):
    """One model served by the factory, for allocation in accelerator-seconds."""

    name: str = Field(
        min_length=1,
        max_length=200,
        description="model name as it appears in the usage data",
    )
    tokens_per_second: float = Field(
        gt=0,
        description="output tokens per second per accelerator at full load",
        json_schema_extra={"unit": "tokens/s"},
    )
    yield_rate: float = Field(
        gt=0,
        le=1,
        description="good share of this model's tokens",
        json_schema_extra={"unit": "fraction"},
    )


class ChargebackPolicy(_Model):
    """Chargeback policy for idle capacity that no business unit reserved."""

    unreserved_idle: Literal["central", "spread-by-usage"] = Field(
        default="central",
        description="capacity variance that no reservation covers: charged to the central line, or spread by busy time",
    )
    central_line: str = Field(
        default="Infrastructure",
        min_length=1,
        max_length=200,
        description="consumer name of the central line",
    )


class ReconciliationPolicy(_Model):
    """Thresholds that flag a period and component in the ledger reconciliation."""

    tolerance: float = Field(
        default=0.05,
        ge=0,
        description="flag when |variance %| exceeds this fraction",
        json_schema_extra={"unit": "fraction"},
    )
    materiality: float = Field(
        default=0.0,
        ge=0,
        description="flag when |variance| exceeds this amount; 0 turns the amount test off",
        json_schema_extra={"unit": "money"},
    )


Fabric = Annotated[FabricShare | FabricCapex, Field(discriminator="basis")]
Facility = Annotated[
    FacilityFixed | FacilityPerRack | FacilityPerKw, Field(discriminator="basis")
]
Energy = Annotated[EnergyStated | EnergyPhysical, Field(discriminator="basis")]


class Scenario(_Model):
    """One factory for one period."""

    name: str = Field(
        min_length=1,
        max_length=200,
        description="scenario name shown on the Cover sheet",
    )
    currency: str = Field(
        default="USD",
        pattern=r"^[A-Z]{3}$",
        description="ISO 4217 currency code of every money figure",
    )
    hours_per_period: float = Field(
        default=730.0,
        gt=0,
        le=8784,
        description="hours in the period (730 is a month)",
        json_schema_extra={"unit": "hours"},
    )
    accelerators: int = Field(
        gt=0,
        le=10_000_000,
        description="accelerators in the factory",
        json_schema_extra={"unit": "accelerators"},
    )
    tokens_per_second: float = Field(
        gt=0,
        description="output tokens per second per accelerator at full load",
        json_schema_extra={"unit": "tokens/s"},
    )
    utilization: float = Field(
        gt=0,
        le=1,
        description="busy share of capacity",
        json_schema_extra={"unit": "fraction"},
    )
    yield_rate: float = Field(
        gt=0,
        le=1,
        description="good share of tokens made",
        json_schema_extra={"unit": "fraction"},
    )
    api_price_per_million: float = Field(
        gt=0,
        description="price of a comparable API per million output tokens",
        json_schema_extra={"unit": "money/M tokens"},
    )

    silicon: Silicon
    fabric: Fabric
    facility: Facility
    energy: Energy
    platform: Platform = Platform()
    model_lifecycle: ModelLifecycle = ModelLifecycle()
    operations: Operations

    # Several models on one factory. Without this table the factory serves one model
    # with the top-level tokens_per_second and yield_rate.
    models: list[ModelDefinition] | None = Field(
        default=None, min_length=1, max_length=1000
    )
    chargeback: ChargebackPolicy = ChargebackPolicy()
    reconciliation: ReconciliationPolicy = ReconciliationPolicy()

    # Optional sections for `tokenbom schedule` (the asset register, driver paths by
    # month, the fixed-rate policy). The single-period BOM does not read them.
    assets: list[Asset] | None = None
    drivers: Drivers | None = None
    restrike: Restrike | None = None

    @model_validator(mode="after")
    def _model_names_unique(self) -> Scenario:
        seen: set[str] = set()
        for model in self.models or ():
            if model.name in seen:
                raise ValueError(
                    f"model name {model.name!r} appears twice in [[models]]; give each model once"
                )
            seen.add(model.name)
        return self


# Scenario fields that hold a schedule over many periods, not one period's parameters.
SCHEDULE_SECTIONS = ("assets", "drivers", "restrike")


# Name of the one model a scenario without [[models]] serves.
DEFAULT_MODEL_NAME = "default"


def serving_models(scenario: Scenario) -> list[ModelDefinition]:
    """Return the models the factory serves: [[models]], or one from the top-level fields."""
    if scenario.models:
        return list(scenario.models)
    return [
        ModelDefinition(
            name=DEFAULT_MODEL_NAME,
            tokens_per_second=scenario.tokens_per_second,
            yield_rate=scenario.yield_rate,
        )
    ]


# ---------------------------------------------------------------------------
# Loading and error messages


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario TOML file.

    Raises:
        InputError: the file is missing, is not TOML, or fails validation. The
            message names the file, each invalid field, its value and the allowed range.
    """
    path = Path(path)
    text = read_text_file(path, kind="scenario", file_format="TOML")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(
            f"{path}: not valid TOML: {exc}; fix the syntax there"
        ) from None
    except RecursionError:
        raise InputError(
            f"{path}: tables or arrays are nested too deeply to read; a scenario "
            "needs at most a few levels"
        ) from None
    try:
        return parse_scenario(data, source=str(path))
    except RecursionError:
        raise InputError(
            f"{path}: values are nested too deeply to validate; a scenario needs at "
            "most a few levels"
        ) from None


def parse_scenario(data: Mapping[str, Any], *, source: str = "scenario") -> Scenario:
    """Validate a scenario given as a mapping (parsed TOML or JSON).

    Raises:
        InputError: one line per invalid field, each prefixed with ``source``.
    """
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        lines = [_describe_error(source, error) for error in exc.errors()]
        raise InputError("\n".join(lines)) from None


# Discriminator tags that pydantic puts into an error's location.
_TAGS = {
    "share-of-silicon",
    "capex",
    "fixed",
    "per-rack",
    "per-kw",
    "stated",
    "physical",
}


def _describe_error(source: str, error: Mapping[str, Any]) -> str:
    """Turn one pydantic error into 'file: field = value: problem; allowed: range'."""
    field = _field_path(error["loc"]) or "(top level)"
    kind = error["type"]
    value = error.get("input")

    if kind == "missing":
        return (
            f"{source}: missing field {field}; add it ({_allowed_text(error['loc'])})"
        )
    if kind == "extra_forbidden":
        return f"{source}: unknown field {field}; remove it or check its spelling"
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        context = error.get("ctx", {})
        tags = context.get("expected_tags", "")
        if kind == "union_tag_not_found":
            return f"{source}: missing field {field}.basis; add it, one of {tags}"
        return f"{source}: {field}.basis = {context.get('tag')!r} is invalid; use one of {tags}"
    if kind == "value_error":
        message = str(error.get("ctx", {}).get("error", error["msg"]))
        return f"{source}: {field}: {message}"

    allowed = _allowed_text(error["loc"])
    if isinstance(value, (date, time)):
        # TOML reads an unquoted 2026-01-01 as a date, which pydantic would show as
        # datetime.date(2026, 1, 1), so the value is shown as it is written in TOML.
        return (
            f"{source}: {field} = {value.isoformat()} is read as a TOML "
            f"{_toml_kind(value)}; allowed: {allowed}"
        )
    value_text = _show_value(value)
    if kind == "string_pattern_mismatch" and field == "currency":
        return (
            f"{source}: currency = {value_text} is invalid: give a three-letter ISO 4217 "
            "code in upper case, such as USD or EUR"
        )
    problem = error["msg"][:1].lower() + error["msg"][1:]
    return f"{source}: {field} = {value_text} is invalid: {problem}; allowed: {allowed}"


def _toml_kind(value: date | time) -> str:
    if isinstance(value, datetime):
        return "date and time"
    return "date" if isinstance(value, date) else "time"


def _field_path(loc: tuple[Any, ...]) -> str:
    """Join an error location as 'section.field', with list rows counted from 1: 'assets[2].quantity'."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part + 1}]"
        elif part == "[key]":  # pydantic's mark for an invalid key of a table
            continue
        elif str(part) not in _TAGS:
            path += f".{part}" if path else str(part)
    return path


def _show_value(value: Any) -> str:
    if isinstance(value, (dict, list)):
        if not value:
            return "{}" if isinstance(value, dict) else "[]"
        return type(value).__name__
    return repr(value)


def _allowed_text(loc: tuple[Any, ...]) -> str:
    """Describe the allowed values of the field at ``loc`` from its constraints."""
    if len(loc) >= 2 and loc[0] == "drivers" and loc[1] in DRIVER_NAMES:
        # A driver is a table of months to numbers, which _field_info cannot enter.
        if len(loc) == 2:
            return allowed_path_text(loc[1])
        return allowed_value_text(loc[1])

    info = _field_info(loc)
    if info is None:
        if loc and str(loc[0]) in SCHEDULE_SECTIONS:
            return "see templates/schedule_factory.toml"
        return "see templates/reference_factory.toml"
    if _is_month_field(info):
        return 'a month as YYYY-MM text in quotes, such as "2026-01"'
    annotation = info.annotation
    bounds = []
    for item in info.metadata:
        if isinstance(item, annotated_types.Gt):
            bounds.append(f"> {_bound_text(item.gt)}")
        elif isinstance(item, annotated_types.Ge):
            bounds.append(f">= {_bound_text(item.ge)}")
        elif isinstance(item, annotated_types.Lt):
            bounds.append(f"< {_bound_text(item.lt)}")
        elif isinstance(item, annotated_types.Le):
            bounds.append(f"<= {_bound_text(item.le)}")
    unit = (
        (info.json_schema_extra or {}).get("unit")
        if isinstance(info.json_schema_extra, dict)
        else None
    )
    kind = {int: "a whole number", float: "a number", str: "text"}.get(annotation)
    if kind is None and "Literal" in str(annotation):
        kind = "one of " + ", ".join(repr(a) for a in annotation.__args__)
    if kind is None and "float" in str(annotation):
        kind = "a number"
    text = kind or "a value"
    if bounds:
        text += " " + " and ".join(bounds)
    if unit:
        text += ", " + _UNIT_TEXT.get(unit, f"in {unit}")
    return text


_UNIT_TEXT = {
    "money": "an amount in the scenario's currency",
    "fraction": "as a fraction (0.6 means 60%)",
    "money/kWh": "in the scenario's currency per kWh",
    "money/M tokens": "in the scenario's currency per million tokens",
}


_MONTH_CHECK = get_args(MonthText)[1]


def _is_month_field(info: Any) -> bool:
    """Return True if the field is "YYYY-MM" text, required or optional."""
    return _MONTH_CHECK in info.metadata or MonthText in get_args(info.annotation)


def _bound_text(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:g}"


def _field_info(loc: tuple[Any, ...]) -> Any:
    model: Any = Scenario
    info = None
    for part in loc:
        part = str(part)
        if part in _TAGS:
            model = next(
                m
                for m in _TAG_MODELS
                if m.model_fields["basis"].annotation.__args__[0] == part
            )
            continue
        model = _model_in(model)
        if model is None:
            return None
        if part.isdigit():  # a row of a list such as [[assets]]
            continue
        info = model.model_fields.get(part)
        if info is None:
            return None
        model = info.annotation
    return info


def _model_in(annotation: Any) -> Any:
    """Return the pydantic model in ``annotation`` (``Model``, ``list[Model]``, ``Model | None``), or None."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for argument in get_args(annotation):
        model = _model_in(argument)
        if model is not None:
            return model
    return None


_TAG_MODELS = (
    FabricShare,
    FabricCapex,
    FacilityFixed,
    FacilityPerRack,
    FacilityPerKw,
    EnergyStated,
    EnergyPhysical,
)


# ---------------------------------------------------------------------------
# The flat parameter list used by the Inputs sheet and by TOKEN_BOM(inputs)


@dataclass(frozen=True)
class Parameter:
    """One scenario value as a flat, Excel-friendly row."""

    name: str  # also the workbook's defined name, e.g. silicon_unit_price
    path: tuple[str, ...]  # location in the scenario, e.g. ("silicon", "unit_price")
    value: Any
    unit: str
    description: str
    # The allowed range as a bound and whether the bound itself is allowed.
    minimum: float | None = None
    minimum_inclusive: bool = True
    maximum: float | None = None
    maximum_inclusive: bool = True

    @property
    def is_number(self) -> bool:
        return isinstance(self.value, (int, float)) and not isinstance(self.value, bool)


_SECTIONS = tuple(key for key, _ in COMPONENTS) + ("chargeback", "reconciliation")

# Flat names of the [[models]] fields: model_1_name, model_1_tokens_per_second, ...
_MODEL_PARAMETER = re.compile(
    r"model_([1-9][0-9]*)_(name|tokens_per_second|yield_rate)"
)


def scenario_parameters(scenario: Scenario) -> list[Parameter]:
    """List every value of ``scenario`` as a flat parameter, in file order.

    Names join the component table and the field with an underscore, so
    ``silicon.unit_price`` becomes ``silicon_unit_price``. Top-level fields keep their
    own name, and [[models]] rows become ``model_1_name`` and so on. Optional fields
    that are unset are left out.
    """
    parameters = []
    for field_name in Scenario.model_fields:
        if field_name in SCHEDULE_SECTIONS:
            continue
        value = getattr(scenario, field_name)
        if field_name == "models":
            for number, model in enumerate(value or (), start=1):
                for sub_name, sub_info in ModelDefinition.model_fields.items():
                    parameters.append(
                        _parameter(
                            f"model_{number}_{sub_name}",
                            ("models", str(number), sub_name),
                            getattr(model, sub_name),
                            sub_info,
                        )
                    )
        elif isinstance(value, BaseModel):
            for sub_name, sub_info in type(value).model_fields.items():
                sub_value = getattr(value, sub_name)
                if sub_value is None:
                    continue
                parameters.append(
                    _parameter(
                        f"{field_name}_{sub_name}",
                        (field_name, sub_name),
                        sub_value,
                        sub_info,
                    )
                )
        else:
            info = Scenario.model_fields[field_name]
            parameters.append(_parameter(field_name, (field_name,), value, info))
    return parameters


def _parameter(name: str, path: tuple[str, ...], value: Any, info: Any) -> Parameter:
    extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
    bounds: dict[str, Any] = {}
    for item in info.metadata:
        if isinstance(item, annotated_types.Gt):
            bounds.update(minimum=item.gt, minimum_inclusive=False)
        elif isinstance(item, annotated_types.Ge):
            bounds.update(minimum=item.ge, minimum_inclusive=True)
        elif isinstance(item, annotated_types.Lt):
            bounds.update(maximum=item.lt, maximum_inclusive=False)
        elif isinstance(item, annotated_types.Le):
            bounds.update(maximum=item.le, maximum_inclusive=True)
    return Parameter(
        name=name,
        path=path,
        value=value,
        unit=str(extra.get("unit", "")),
        description=info.description or "",
        **bounds,
    )


def scenario_from_parameters(
    pairs: Iterable[tuple[Any, Any]], *, source: str = "inputs"
) -> Scenario:
    """Build a scenario from (name, value) pairs such as an Inputs sheet range.

    Names are the flat names of :func:`scenario_parameters`. Blank names are skipped.
    A whole-number float, which is how Excel sends every number, is accepted where a
    whole number is required.

    Raises:
        InputError: an unknown or repeated name, or a scenario that fails validation.
    """
    data: dict[str, Any] = {}
    for raw_name, value in pairs:
        if raw_name is None or (isinstance(raw_name, str) and not raw_name.strip()):
            continue
        name = str(raw_name).strip()
        path = _path_of(name)
        if path is None:
            raise InputError(
                f"{source}: unknown parameter {name!r}; use the names on the Inputs sheet"
            )
        target = data
        if path[0] == "models":
            # Model numbers may have gaps, and the models keep the order of their numbers.
            target = data.setdefault("models", {}).setdefault(int(path[1]), {})
        else:
            for part in path[:-1]:
                target = target.setdefault(part, {})
        if path[-1] in target:
            raise InputError(
                f"{source}: parameter {name!r} appears twice; keep one row"
            )
        target[path[-1]] = _from_excel(path, value)
    if "models" in data:
        data["models"] = [data["models"][number] for number in sorted(data["models"])]
    return parse_scenario(data, source=source)


def _path_of(name: str) -> tuple[str, ...] | None:
    if name in Scenario.model_fields and name not in _SECTIONS and name != "models":
        return (name,)
    model_match = _MODEL_PARAMETER.fullmatch(name)
    if model_match:
        return ("models", model_match.group(1), model_match.group(2))
    for section in sorted(_SECTIONS, key=len, reverse=True):
        if name.startswith(section + "_"):
            return (section, name[len(section) + 1 :])
    return None


_INT_FIELDS = {
    ("accelerators",),
    ("silicon", "life_months"),
    ("silicon", "age_months"),
    ("fabric", "life_months"),
    ("platform", "nodes"),
}


def _from_excel(path: tuple[str, ...], value: Any) -> Any:
    """Convert a number from Excel to the int or float type of the field at ``path``.

    Excel sends every number as a float, and the strict models accept neither a float
    for an int field nor an int for a float field.
    """
    if (
        path[0] == "models"
        and path[-1] != "name"
        and isinstance(value, int)
        and not isinstance(value, bool)
    ):
        return float(value)
    if (
        path in _INT_FIELDS
        and isinstance(value, float)
        and math.isfinite(value)
        and value.is_integer()
    ):
        return int(value)
    if (
        isinstance(value, int)
        and not isinstance(value, bool)
        and path not in _INT_FIELDS
    ):
        return float(value)
    return value


def scenario_hash(scenario: Scenario) -> str:
    """Return the SHA-256 of the scenario's canonical JSON, as hex."""
    # Absent schedule sections stay out of the hash, so a single-period scenario's
    # hash does not depend on which schedule features the package supports.
    absent = {name for name in SCHEDULE_SECTIONS if getattr(scenario, name) is None}
    data = scenario.model_dump(mode="json", exclude=absent)
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
