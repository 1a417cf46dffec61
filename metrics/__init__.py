"""Support-package analytics: load case and response logs, compute SLA obligations and metrics.

Nothing in this package imports Streamlit or reads the clock: the dashboard, the CLI
(`python -m metrics`) and the tests all call the same functions with an explicit `as_of`.

Layers, top to bottom; a module imports only from its own layer or the ones below:

    tools/     sample generator, importers, the CLI         (may import everything below)
    reports/   weekly update and governance pack            (subjects, engine, storage)
    subjects/  the metrics, one module per subject, on the registry  (engine, workspace, storage)
    engine/    calendars, the obligations SQL, snapshot, explain     (storage)
    workspace/ what people write beside the data: weekly update drafts, updates sent (storage)
    storage/   data contract, configuration, ingest, the store
    errors, safe_text, sqlfiles: small shared helpers every layer may use

tests/test_layers.py checks the rule on every import.
"""
