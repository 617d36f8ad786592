"""Parsing Prometheus text exposition with prometheus_client's parser.

The parser handles HELP and TYPE lines, quoted label values with escapes, NaN and
Inf, and optional millisecond timestamps. It reports errors without a line number, so
the lines are fed to it one at a time through a counter, and the line being parsed
when an error is raised is named in the message. The parser keeps a metric family's
samples in memory until the family ends, so the counter splits a long family into
batches (see ``_SAMPLES_PER_BATCH``).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

from prometheus_client.parser import text_fd_to_metric_families

from tokenbom_xl.errors import InputError
from tokenbom_xl.metering.inputs import IgnoredLines, InputFile

__all__ = ["ExpositionSample", "iter_exposition", "looks_like_exposition"]


@dataclass(frozen=True)
class ExpositionSample:
    """One sample line: metric name, labels, value, timestamp (epoch s) and line number."""

    name: str
    labels: dict[str, str]
    value: float
    timestamp: float | None
    line: int


def looks_like_exposition(first_lines: list[str]) -> bool:
    """Return whether the opening lines look like Prometheus text exposition.

    Returns True at the first HELP or TYPE line, or when the first sample line has
    the form ``name{labels} value`` or ``name value`` with a number as the value.
    """
    for line in first_lines:
        if line.startswith(("# HELP ", "# TYPE ")):
            return True
        if not line.strip() or line.startswith("#"):
            continue
        name, _, rest = line.partition("{")
        if rest:
            rest = rest.rpartition("}")[2]
        else:
            name, _, rest = line.partition(" ")
        if (
            not name
            or not (name[0].isalpha() or name[0] in "_:")
            or not all(c.isalnum() or c in "_:" for c in name)
        ):
            return False
        value = rest.split()[0] if rest.split() else ""
        try:
            float(value)
        except ValueError:
            return False
        return True
    return False


# Blank lines and comments other than HELP and TYPE lines, which the parser skips.
_IGNORED = IgnoredLines(prefixes=(b"#",), unless=(b"HELP", b"TYPE"))

# Sample lines of one family passed to the parser before the family is split. A split
# is a HELP line of a placeholder family followed by the family's own HELP and TYPE
# lines again, so the parser hands over the samples so far and carries on with the
# same name and type. Only families without samples are added.
_SAMPLES_PER_BATCH = 10_000
_SPLIT_LINE = "# HELP tokenbom_batch_split placeholder between batches of one family\n"


class _LineCounter:
    """Line iterator for the parser that records the sample lines not yet matched."""

    def __init__(self, source: InputFile) -> None:
        self._lines = source.lines(_IGNORED)
        self.number = 0
        self.pending: list[int] = []  # line numbers of sample lines read so far
        self._header: list[str] = []  # HELP and TYPE lines of the current family
        self._in_samples = False  # whether a sample line followed the header
        self._batch = 0  # sample lines since the header or the last split

    def __iter__(self) -> Iterator[str]:
        for number, text in self._lines:
            self.number = number
            stripped = text.strip()
            if stripped.startswith("#"):
                parts = stripped.split(None, 3)
                if len(parts) > 2 and parts[1] in ("HELP", "TYPE"):
                    if self._in_samples:
                        self._header = []
                        self._in_samples = False
                    self._header.append(text + "\n")
                    self._batch = 0
            elif stripped:
                self._in_samples = True
                if self._batch >= _SAMPLES_PER_BATCH and self._header:
                    yield _SPLIT_LINE
                    yield from self._header
                    self._batch = 0
                self._batch += 1
                self.pending.append(number)
            yield text + "\n"

    def take(self, count: int) -> list[int]:
        """Return the line numbers of the next ``count`` sample lines, in file order."""
        taken, self.pending = self.pending[:count], self.pending[count:]
        return taken + [self.number] * (count - len(taken))


def iter_exposition(source: InputFile) -> Iterator[ExpositionSample]:
    """Yield every sample of an exposition file, with its line number.

    Raises:
        InputError: a line is not valid exposition; the message names the line.
    """
    counter = _LineCounter(source)
    families = text_fd_to_metric_families(counter)
    while True:
        try:
            family = next(families)
        except StopIteration:
            return
        except InputError:
            # The file itself could not be read (decompression, encoding, line length).
            raise
        except (ValueError, TypeError, IndexError, KeyError, OverflowError) as exc:
            # OverflowError: a timestamp of hundreds of digits, which the parser
            # divides by 1000.
            raise InputError(
                f"{source.path}: line {counter.number}: not valid Prometheus text exposition ({exc}); "
                "check that the file is a /metrics scrape"
            ) from None
        # The parser may have read the first line of the next family already, so the
        # samples of this family are the oldest sample lines not yet matched.
        lines = counter.take(len(family.samples))
        for sample, line in zip(family.samples, lines, strict=True):
            yield ExpositionSample(
                name=sample.name,
                labels=dict(sample.labels),
                value=_as_float(sample.value),
                timestamp=float(sample.timestamp)
                if sample.timestamp is not None
                else None,
                line=line,
            )


def _as_float(value: float) -> float:
    """Return the parser's value as a float, and an integer too large for one as infinity."""
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf
