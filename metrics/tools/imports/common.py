"""What every importer shares: its report, and writing a dataset folder with its config.toml."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import tomli_w

from metrics.errors import LoadError
from metrics.storage.contract import BY_NAME


@dataclass
class ImportReport:
    """What an import read, wrote and skipped (with why), printed by the CLI."""

    source: str
    rows_read: int = 0
    written: dict[str, int] = field(default_factory=dict)  # table -> rows
    skipped: Counter[str] = field(default_factory=Counter)  # reason -> rows

    def summary(self) -> str:
        lines = [f"Imported {self.source}: {self.rows_read:,} rows read"]
        lines += [f"  {table:<14} {n:>10,} rows" for table, n in self.written.items()]
        if self.skipped:
            lines.append(f"Skipped {sum(self.skipped.values()):,} rows:")
            lines += [f"  {reason}: {n:,}" for reason, n in sorted(self.skipped.items())]
        else:
            lines.append("No rows skipped.")
        return "\n".join(lines)


def next_steps(out: Path) -> str:
    """What every importer prints last: where it wrote, and the two commands that follow."""
    store = out.with_name(f"{out.name}.duckdb")
    return "\n".join([
        f"Wrote {out} (its config.toml records the choices). Next:",
        f"  python -m metrics ingest {out} --db {store}",
        f"  SUPPORT_ANALYTICS_DB={store} streamlit run dashboard.py",
    ])


def parse_pairs(text: str, option: str, example: str) -> dict[str, str]:
    """An option's 'Critical=1, High=2' -> {'Critical': '1', 'High': '2'}; the last '=' splits.

    A malformed pair is a LoadError naming the option and showing `example`.
    """
    pairs: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, value = part.rpartition("=")
        if not sep or not name.strip() or not value.strip():
            raise LoadError(f"{option}: expected NAME=VALUE pairs such as {example}, got {part!r}")
        pairs[name.strip()] = value.strip()
    return pairs


def iso_utc(series: pd.Series) -> pd.Series:
    """Aware timestamps as ISO 8601 UTC text with `Z`, whole seconds (empty where missing)."""
    text = series.dt.tz_convert("UTC").dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    return text.where(series.notna(), "")


def write_dataset(out: Path, tables: dict[str, pd.DataFrame], config: dict[str, Any], report: ImportReport) -> None:
    """Write each table as `<table>.csv` (contract columns first, extras after) and config.toml.

    Timestamp columns must already be ISO text (see `iso_utc`); the folder is created and
    files of the same tables in other formats are removed, so it always loads cleanly.
    """
    out.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        contract = [c for c in BY_NAME[name].column_names if c in frame.columns]
        extras = [c for c in frame.columns if c not in contract]
        for stale in (out / f"{name}.parquet", out / f"{name}.jsonl"):
            stale.unlink(missing_ok=True)
        frame[contract + extras].to_csv(out / f"{name}.csv", index=False)
        report.written[name] = len(frame)
    (out / "config.toml").write_bytes(tomli_w.dumps(config).encode())
