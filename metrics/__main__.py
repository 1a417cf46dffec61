"""`python -m metrics ...`: see metrics/tools/cli.py."""

from metrics.tools.cli import main

main(prog_name="python -m metrics")
