"""Metering bridge: turns one period's exports into metered inputs.

The exports come from accelerator telemetry, the facility, serving engines,
evaluation runs and the general ledger. Each format has its own reader module
(``nvidia_smi``, ``gpu_exposition``, ``query_range``, ``facility``, ``pue_table``,
``vllm``, ``openai_usage``, ``otel``, ``serving_log``, ``inspect_eval``,
``ledger``). :func:`tokenbom_xl.metering.bridge.meter` runs them,
:mod:`~tokenbom_xl.metering.metered` defines the metered TOML, and
:func:`tokenbom_xl.metering.apply.apply_metered` applies it to a scenario. This
package imports nothing, so the workbook can use :mod:`~tokenbom_xl.metering.apply`
without loading the readers' libraries.
"""
