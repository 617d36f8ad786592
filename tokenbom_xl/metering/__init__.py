"""The metering bridge: real telemetry, facility, serving, evaluation and ledger exports
turned into one period's metered inputs.

One module per reader (``nvidia_smi``, ``gpu_exposition``, ``query_range``,
``facility``, ``pue_table``, ``vllm``, ``openai_usage``, ``otel``, ``serving_log``,
``inspect_eval``, ``ledger``); :func:`tokenbom_xl.metering.bridge.meter` runs them,
:mod:`~tokenbom_xl.metering.metered` is the metered TOML, and
:func:`tokenbom_xl.metering.apply.apply_metered` applies it to a scenario. Nothing is
imported here, so the workbook can use :mod:`~tokenbom_xl.metering.apply` without
loading the readers' libraries.
"""
