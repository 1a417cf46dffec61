"""Support-package analytics: load case and response logs, compute SLA obligations and metrics.

Nothing in this package imports Streamlit or reads the clock: the dashboard, the CLI
(`python -m metrics`) and the tests all call the same functions with an explicit `as_of`.
"""
