"""The clock engine: calendars, every obligation as of a moment (sql/), the snapshot, explain.

Owns the rules of sla-rules.md: given a store and an as-of instant it computes each
response obligation to the second and the per-case facts the metrics read. Imports
storage and the shared helpers, never a metric or a report.
"""

from metrics.engine.stored_run import store_run
from metrics.storage.ingest import before_publish

before_publish("computing every obligation", store_run)
