"""Period drivers: step paths, the CSV form and how two sets of paths combine."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import TEMPLATES

from tokenbom_xl.drivers import (
    DRIVER_NAMES,
    Drivers,
    merge_drivers,
    parse_driver_csv,
    path_values,
    read_driver_csv,
)
from tokenbom_xl.errors import InputError
from tokenbom_xl.periods import parse_month


def months(*labels):
    return np.array([parse_month(label) for label in labels])


def test_step_path_applies_until_next_month():
    path = {"2026-03": 1.0, "2026-06": 2.0}
    values = path_values(
        path, 9.0, months("2026-01", "2026-03", "2026-05", "2026-06", "2030-01")
    )
    # Before the first listed month the first value applies; after the last, the last.
    np.testing.assert_array_equal(values, [1.0, 1.0, 1.0, 2.0, 2.0])


def test_missing_path_gives_default():
    np.testing.assert_array_equal(
        path_values(None, 9.0, months("2026-01", "2026-02")), [9.0, 9.0]
    )


def test_path_lookup_keeps_shape():
    grid = months("2026-01", "2026-02", "2026-03", "2026-04").reshape(2, 2)
    assert path_values({"2026-02": 5.0}, 0.0, grid).shape == (2, 2)


def test_csv_blank_cells_leave_driver_unchanged():
    text = (
        "# drivers\n"
        "Month,tokens_per_second,utilization\n"
        "2026-07,240,\n"
        "2026-01,200,0.6\n"
        "2026-10,,0.7\n"
    )
    drivers = parse_driver_csv(text)
    assert drivers.tokens_per_second == {"2026-07": 240.0, "2026-01": 200.0}
    assert drivers.utilization == {"2026-01": 0.6, "2026-10": 0.7}
    assert drivers.yield_rate is None


# (CSV text, fragments the message must contain)
BAD_FILES = [
    ("", ["the file is empty"]),
    ("month,utilization\n", ["no months"]),
    (
        "period,utilization\n2026-01,0.5\n",
        ["row 1 (header)", "first column must be month"],
    ),
    ("month,speed\n2026-01,1\n", ["unknown column 'speed'", "tokens_per_second"]),
    ("month,utilization,utilization\n2026-01,0.5,0.5\n", ["appears twice"]),
    ("month,utilization\n2026-13,0.5\n", ["row 2, column month", "'2026-13'"]),
    (
        "month,utilization\n2026-01,0.5\n2026-01,0.6\n",
        ["row 3, column month", "already listed on row 2"],
    ),
    (
        "month,utilization\n2026-01,60%\n",
        ["row 2, column utilization", "'60%'", "percent signs"],
    ),
    ("month,utilization\n2026-01,1.5\n", ["row 2, column utilization", "1.5", "<= 1"]),
    (
        "month,tokens_per_second\n2026-01,0\n",
        ["row 2, column tokens_per_second", "> 0"],
    ),
    ("month,utilization\n2026-01,0.5,7\n", ["row 2 has 3 values"]),
]


@pytest.mark.parametrize(("text", "fragments"), BAD_FILES)
def test_invalid_driver_file(text, fragments):
    with pytest.raises(InputError) as caught:
        parse_driver_csv(text, source="drivers.csv")
    message = str(caught.value)
    assert message.startswith("drivers.csv: ")
    for fragment in fragments:
        assert fragment in message


def test_missing_driver_file(tmp_path):
    with pytest.raises(InputError, match="driver file not found"):
        read_driver_csv(tmp_path / "missing.csv")


def test_csv_path_replaces_scenario_path():
    base = Drivers.model_validate(
        {"utilization": {"2026-01": 0.5}, "yield_rate": {"2026-01": 0.9}}
    )
    override = Drivers.model_validate({"utilization": {"2027-01": 0.8}})
    merged = merge_drivers(base, override)
    assert merged.utilization == {"2027-01": 0.8}
    assert merged.yield_rate == {"2026-01": 0.9}
    assert merge_drivers(None, None) == Drivers()


def test_every_driver_has_a_unit_and_description():
    for name in DRIVER_NAMES:
        info = Drivers.model_fields[name]
        assert info.description, name
        assert info.json_schema_extra["unit"], name


def test_template_driver_file_reads():
    drivers = read_driver_csv(TEMPLATES / "drivers.csv")
    assert drivers.tokens_per_second == {
        "2026-01": 200.0,
        "2026-07": 240.0,
        "2027-07": 280.0,
    }
    assert drivers.utilization == {"2026-01": 0.6, "2026-10": 0.7, "2027-07": 0.75}
    assert drivers.wall_kw_per_accelerator is None
