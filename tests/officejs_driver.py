"""Run tokenbom_xl.udfs through xlwings' Office.js custom-function machinery.

xlwings chooses its decorators and registers the Office.js conversion engine when
it is first imported, so this runs in its own process, started by test_udfs.py with
XLWINGS_ON_SERVER=true and a licence key in the environment, as an xlwings Server
deployment does. It reads a JSON list of calls ({"func_name": ..., "args": [...]},
each argument a 2-D list as Excel sends it) on stdin and writes JSON to stdout:
the custom-functions metadata and, per call, the result or the exception.
"""

from __future__ import annotations

import asyncio
import json
import sys

import xlwings
from xlwings import server

from tokenbom_xl import udfs


async def run_calls(calls: list[dict]) -> list[dict]:
    outcomes = []
    for call in calls:
        payload = {
            **call,
            "version": xlwings.__version__,
            "client": "Office.js",
            "runtime": "1.4",
        }
        try:
            outcomes.append(
                {"result": await server.custom_functions_call(payload, udfs)}
            )
        except Exception as exc:  # noqa: BLE001  (reported to the test, which fails on it)
            outcomes.append({"exception": repr(exc)})
    return outcomes


def main() -> None:
    calls = json.load(sys.stdin)
    output = {
        "decorator_module": xlwings.func.__module__,
        "meta": server.custom_functions_meta(udfs),
        "outcomes": asyncio.run(run_calls(calls)),
    }
    json.dump(output, sys.stdout)


if __name__ == "__main__":
    main()
