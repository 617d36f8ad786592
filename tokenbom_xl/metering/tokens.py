"""Token counts by business unit and model, shared by the serving readers."""

from __future__ import annotations

from dataclasses import dataclass, field

from tokenbom_xl.errors import InputError
from tokenbom_xl.metering.report import SourceReport

__all__ = [
    "MAX_TOKEN_COUNT",
    "MAX_TOKEN_GROUPS",
    "ServingResult",
    "TokenCounts",
    "TokenTotals",
]

# The largest token count one record or counter may report: 2^53, the largest
# integer that a float64 represents exactly (Prometheus values are float64). No
# request or engine comes near it, so a larger count is damage, and rejecting it
# keeps every total exact.
MAX_TOKEN_COUNT = 2**53

# Maximum number of distinct (business unit, model) pairs from the serving sources. Each
# becomes a row of the metered TOML and of the workbook's Metering sheet. Far more
# pairs than business units times models means that the consumer option names a
# request or user id.
MAX_TOKEN_GROUPS = 100_000


@dataclass
class TokenTotals:
    """Tokens made for one business unit and model."""

    output_tokens: int = 0
    input_tokens: int = 0
    requests: int = 0


@dataclass
class TokenCounts:
    """Token totals keyed by (business unit, model). Messages name ``source``."""

    source: str = "the serving sources together"
    totals: dict[tuple[str, str], TokenTotals] = field(default_factory=dict)

    def add(
        self,
        business_unit: str,
        model: str,
        output_tokens: int,
        input_tokens: int = 0,
        requests: int = 1,
    ) -> None:
        """Add tokens to one business unit and model.

        Raises:
            InputError: the pair is new and ``MAX_TOKEN_GROUPS`` pairs exist already.
        """
        key = (business_unit, model)
        if key not in self.totals and len(self.totals) >= MAX_TOKEN_GROUPS:
            raise InputError(
                f"{self.source}: more than {MAX_TOKEN_GROUPS:,} distinct business unit and "
                "model pairs; check that --consumer-field, --consumer-label, "
                "--consumer-attribute or --consumer-column names a business unit, "
                "not a request or user id"
            )
        totals = self.totals.setdefault(key, TokenTotals())
        totals.output_tokens += output_tokens
        totals.input_tokens += input_tokens
        totals.requests += requests

    def merge(self, other: TokenCounts) -> None:
        """Add every total of ``other`` to these counts."""
        for (business_unit, model), totals in other.totals.items():
            self.add(
                business_unit,
                model,
                totals.output_tokens,
                totals.input_tokens,
                totals.requests,
            )

    @property
    def output_tokens(self) -> int:
        """Output tokens over every business unit and model."""
        return sum(totals.output_tokens for totals in self.totals.values())


@dataclass
class ServingResult:
    """Token counts from one serving file, and its source report."""

    report: SourceReport
    counts: TokenCounts
