"""`python -m metrics ...`: see metrics/cli.py."""

from metrics.cli import main

main(prog_name="python -m metrics")
