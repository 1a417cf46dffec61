"""Loading and storage: the data contract, the configuration, ingest and the DuckDB store.

Owns what a store holds (exactly what was loaded, plus its load history and quarantine),
how it is built, published and opened, and which dataset folders may be loaded. Imports
only the shared helpers (errors, safe_text, sqlfiles); nothing here knows about clocks.
"""
