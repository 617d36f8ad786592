"""The ``tokenbom`` command line.

Exit codes: 0 for success, 1 when a check failed or an output could not be
produced, and 2 for invalid input (a scenario, a data file or an argument). Each
subcommand is defined in its own module and registered on :data:`main` below.
"""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable
from typing import Any

import click

from tokenbom_xl import __version__
from tokenbom_xl.errors import InputError, OutputError

EXIT_FAILED = 1
EXIT_BAD_INPUT = 2


@click.group(
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100}
)
@click.version_option(__version__, prog_name="tokenbom")
@click.option(
    "-v", "--verbose", count=True, help="Log progress to stderr; -vv for debug detail."
)
def main(verbose: int) -> None:
    """Token BOM: the fully burdened cost of a self-manufactured AI token.

    Run `tokenbom build` to write the reference factory's workbook, then
    `tokenbom check WORKBOOK` to recalculate it in LibreOffice and verify its checks.
    """
    level = {0: logging.WARNING, 1: logging.INFO}.get(verbose, logging.DEBUG)
    logging.basicConfig(
        level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )


def handle_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a command so the package's errors print as messages with the documented exit code."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except InputError as exc:
            _fail(str(exc), EXIT_BAD_INPUT)
        except OutputError as exc:
            _fail(str(exc), EXIT_FAILED)

    return wrapper


def _fail(message: str, code: int) -> None:
    """Print ``message`` to stderr, one "error:" line per line, and exit with ``code``."""
    for line in message.splitlines() or [message]:
        click.echo(f"error: {line}", err=True)
    sys.exit(code)


def currency_text(amount: float, currency: str, decimals: int = 4) -> str:
    """Format an amount as '$3.4484' or '3.4484 EUR', with ``decimals`` places.

    With decimals=0 the amount uses Python's general format instead, which keeps up
    to six significant digits and drops trailing zeros ('$0.6', '$10'). An amount
    that rounds to zero prints without a minus sign.
    """
    symbol = {"USD": "$", "EUR": "€", "GBP": "£"}.get(currency)
    # The z option (Python 3.11) turns a negative zero after rounding into 0.
    number = f"{amount:z,.{decimals}f}" if decimals else f"{amount:z,g}"
    return f"{symbol}{number}" if symbol else f"{number} {currency}"


from tokenbom_xl.cli import build as _build
from tokenbom_xl.cli import chargeback as _chargeback
from tokenbom_xl.cli import check as _check
from tokenbom_xl.cli import meter as _meter
from tokenbom_xl.cli import reconcile as _reconcile
from tokenbom_xl.cli import schedule as _schedule

main.add_command(_build.build)
main.add_command(_check.check)
main.add_command(_meter.meter)
main.add_command(_chargeback.chargeback)
main.add_command(_reconcile.reconcile)
main.add_command(_schedule.schedule)
