"""tokenbom_xl: the Token BOM, the fully burdened cost of a self-manufactured AI token,
as an engine, Excel worksheet functions, a self-computing workbook and a command line.
"""

from __future__ import annotations

__version__ = "0.1.0"

from tokenbom_xl.engine import BomResult, ComponentCosts, component_costs, evaluate
from tokenbom_xl.errors import InputError, OutputError, TokenBomError
from tokenbom_xl.scenario import Scenario, load_scenario, parse_scenario

__all__ = [
    "BomResult",
    "ComponentCosts",
    "InputError",
    "OutputError",
    "Scenario",
    "TokenBomError",
    "__version__",
    "component_costs",
    "evaluate",
    "load_scenario",
    "parse_scenario",
]
