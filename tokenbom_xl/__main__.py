"""Run the command line as ``python -m tokenbom_xl``."""

from tokenbom_xl.cli import main

main(prog_name="tokenbom")
