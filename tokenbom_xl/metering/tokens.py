"""Token counts by business unit and model, shared by the serving readers."""

from __future__ import annotations

from dataclasses import dataclass, field

from tokenbom_xl.metering.report import SourceReport

__all__ = ["ServingResult", "TokenCounts", "TokenTotals"]


@dataclass
class TokenTotals:
    """Tokens made for one business unit and model."""

    output_tokens: int = 0
    input_tokens: int = 0
    requests: int = 0


@dataclass
class TokenCounts:
    """Token totals keyed by (business unit, model)."""

    totals: dict[tuple[str, str], TokenTotals] = field(default_factory=dict)

    def add(
        self,
        business_unit: str,
        model: str,
        output_tokens: int,
        input_tokens: int = 0,
        requests: int = 1,
    ) -> None:
        totals = self.totals.setdefault((business_unit, model), TokenTotals())
        totals.output_tokens += output_tokens
        totals.input_tokens += input_tokens
        totals.requests += requests

    def merge(self, other: TokenCounts) -> None:
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
        return sum(totals.output_tokens for totals in self.totals.values())


@dataclass
class ServingResult:
    """What one serving file gave: token counts and the source report."""

    report: SourceReport
    counts: TokenCounts
