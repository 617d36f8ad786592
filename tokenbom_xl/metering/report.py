"""Source reports: the row counts, rejections, flags and notes of one file.

Every reader fills a :class:`SourceReport` while it reads, and the Metering sheet and
``tokenbom meter`` print it. It names the file and the time it covers. It counts the
rows read, used, outside the period and rejected, with each reason and its first
lines. It lists quality flags such as gaps, impossible values or counter resets. A
number that a reader could not trust is either rejected here or flagged here, never
dropped silently.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

__all__ = [
    "FLAG_CODES",
    "Flag",
    "Rejection",
    "SourceReport",
    "format_time",
]

# Quality flag codes and what each means. The Metering sheet and docs/metering.md
# use the same codes.
FLAG_CODES: dict[str, str] = {
    "gap": "samples are missing for longer than twice the usual interval",
    "impossible_value": "a reading outside its physical range was excluded",
    "sentinel": "a 'no data' placeholder value was excluded",
    "counter_reset": "a counter went down (restart or driver reload) and was counted from zero after it",
    "missing_gpu": "an accelerator is absent from some samples",
    "duplicate_timestamp": "two samples of one series share a timestamp, and the first was kept",
    "clock_backwards": "timestamps go backwards in file order, so samples were sorted by time",
    "no_timezone": "timestamps carry no time zone and were read in the --timezone zone (UTC by default)",
    "no_timestamps": "the file has no timestamps, so its time coverage is unknown",
    "outside_period": "records outside the period were left out, or counted with --include-outside-period",
    "missing_field": "a field the bridge needs is absent, so a figure could not be derived",
    "single_sample": "one sample per series, so a point reading and not a measured interval",
    "placeholder": "a bracketed placeholder such as [N/A] stood in for a value",
    "partial": "the source itself says its run is incomplete",
    "unattributed": "records without a consumer were counted under 'unassigned'",
    "double_count": "a parent span repeats its children's usage and was not counted",
    "not_selected": "the file was read but none of its values were chosen",
    "inconsistent": "values that should agree disagree, within a record or between a parent span and its children",
    "duplicate_record": "the same record id appears more than once and was counted once",
    "failed_requests": "some requests ended failed, incomplete or cancelled, and their tokens were still made",
}

# Maximum number of line numbers kept per rejection reason. The count stays exact.
MAX_EXAMPLES = 5

# Distinct rejection reasons and flag groups listed per source. Reasons and flags
# often quote a value, so a file with a new bad value on every line would otherwise
# grow the report, the printed summary and the metered TOML with it. Later ones are
# counted under one entry per kind, and every count stays exact.
MAX_REASONS = 50
MAX_FLAG_GROUPS = 50
# Reasons and flag messages are cut to this many characters.
MAX_MESSAGE_CHARS = 300
OTHER_REASONS = f"other reasons (only the first {MAX_REASONS} are listed)"


def _truncate(text: str) -> str:
    if len(text) <= MAX_MESSAGE_CHARS:
        return text
    return text[: MAX_MESSAGE_CHARS - 3] + "..."


def format_time(epoch_seconds: float | None) -> str:
    """Return an ISO 8601 UTC time such as 2026-07-14T08:12:38Z, or '' for None."""
    if epoch_seconds is None:
        return ""
    moment = datetime.fromtimestamp(epoch_seconds, tz=UTC)
    text = moment.isoformat(
        timespec="milliseconds" if moment.microsecond else "seconds"
    )
    return text.replace("+00:00", "Z")


@dataclass
class Rejection:
    """Rows rejected for one reason, with their count and first line numbers."""

    reason: str
    count: int = 0
    lines: list[int] = field(default_factory=list)

    def describe(self) -> str:
        where = ", ".join(str(line) for line in self.lines)
        more = ", ..." if self.count > len(self.lines) else ""
        suffix = f" (line {where}{more})" if self.lines else ""
        return f"{self.count} x {self.reason}{suffix}"


@dataclass
class Flag:
    """One quality flag: a code from :data:`FLAG_CODES` and a specific message."""

    code: str
    message: str
    count: int = 1
    line: int | None = None

    def describe(self) -> str:
        where = f" (first at line {self.line})" if self.line else ""
        return f"{self.code}: {self.message}{where}"


@dataclass
class SourceReport:
    """Row counts, rejections, quality flags and notes of one reader on one file."""

    kind: str  # telemetry, facility, serving, eval or ledger
    format: str  # the reader, e.g. "nvidia-smi CSV"
    file: str
    first_time: float | None = None  # epoch seconds, UTC
    last_time: float | None = None
    rows_read: int = 0
    rows_used: int = 0
    rows_outside_period: int = 0  # left out because they are outside the period
    # Rows counted in rows_used although outside the period (--include-outside-period).
    rows_used_outside_period: int = 0
    rejections: dict[str, Rejection] = field(default_factory=dict)
    flags: dict[str, Flag] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def rows_rejected(self) -> int:
        """Rows rejected for any reason."""
        return sum(rejection.count for rejection in self.rejections.values())

    def reject(self, line: int | None, reason: str) -> None:
        """Count one rejected row under ``reason``, keeping the first line numbers."""
        reason = _truncate(reason)
        if reason not in self.rejections and len(self.rejections) >= MAX_REASONS:
            reason = OTHER_REASONS
        rejection = self.rejections.setdefault(reason, Rejection(reason))
        rejection.count += 1
        if line and len(rejection.lines) < MAX_EXAMPLES:
            rejection.lines.append(line)

    def flag(
        self,
        code: str,
        message: str,
        *,
        line: int | None = None,
        key: str | None = None,
        count: int = 1,
    ) -> None:
        """Record a quality flag, counting repeats under the same key.

        ``key`` groups repeats (default: the code and message), so a flag raised once
        per row appears once with its count and first line. ``count`` is the number
        of rows that the flag represents, for a reader that flags a group of rows at
        once.

        Raises:
            ValueError: ``code`` is not in :data:`FLAG_CODES`, which is a bug in
                the reader.
        """
        if code not in FLAG_CODES:
            raise ValueError(f"invalid flag code {code!r}; use one of FLAG_CODES")
        group = key or f"{code}|{message}"
        if group not in self.flags and len(self.flags) >= MAX_FLAG_GROUPS:
            group = f"{code}|more"
            message = (
                f"more {code} flags (only the first {MAX_FLAG_GROUPS} flags are listed)"
            )
        existing = self.flags.get(group)
        if existing is None:
            self.flags[group] = Flag(code, _truncate(message), count, line)
        else:
            existing.count += count

    def see_time(self, epoch_seconds: float) -> None:
        """Widen the time coverage to include ``epoch_seconds``."""
        if self.first_time is None or epoch_seconds < self.first_time:
            self.first_time = epoch_seconds
        if self.last_time is None or epoch_seconds > self.last_time:
            self.last_time = epoch_seconds

    @property
    def coverage(self) -> str:
        """The covered time as 'first to last', or a note that it is unknown."""
        if self.first_time is None:
            return "unknown (no timestamps)"
        return f"{format_time(self.first_time)} to {format_time(self.last_time)}"

    def rejection_text(self) -> str:
        return "; ".join(rejection.describe() for rejection in self.rejections.values())

    def flag_text(self) -> str:
        parts = []
        for flag in self.flags.values():
            text = flag.describe()
            if flag.count > 1:
                text += f" x {flag.count}"
            parts.append(text)
        return "; ".join(parts)
