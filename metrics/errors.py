"""Errors that reach a user as one clear sentence instead of a traceback."""

from __future__ import annotations


class LoadError(Exception):
    """A fatal problem with a dataset: the load stops and the store is left unchanged.

    The message names the file, the column, the row and what was expected, e.g.
    ``cases.csv, column opened_at, row 17: expected an ISO 8601 timestamp with an offset``.
    """
