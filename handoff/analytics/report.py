"""The analytics report: prints the measures for a date range and writes CSV exports.

    python -m handoff.analytics.report [--from 2026-10-01] [--to 2026-10-31] [--window 7]
                                       [--as-of 2026-11-22] [--database-url URL] [--out results/reports]
    make report FROM=2026-10-01 TO=2026-10-31

`--from` and `--to` are UTC days, both included (default: the last 30 days and today). Rates are
printed with the size of the group they are a share of, e.g. `33.3% (9)`: small samples show.
Writes to `<out>/<from>_<to>/`: metrics.csv (every measure, overall and per language, topic,
agent and day), escalation_reasons.csv, conversations.csv (the per-conversation facts, to audit
any figure) and summary.json. Definitions: docs/metrics.md.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

from handoff.analytics import db, metrics

COLUMNS = [
    ("conversations", "conv", lambda r: str(r["conversations"])),
    ("fcr", "FCR", lambda r: _pct(r["fcr"], r["fcr_eligible"])),
    ("survey_fcr", "survey FCR", lambda r: _pct(r["survey_fcr"], r["survey_answered"])),
    ("containment", "contained", lambda r: _pct(r["containment"], r["ended"])),
    ("escalation_rate", "escalated", lambda r: _pct(r["escalation_rate"], r["conversations"])),
    ("abandonment_rate", "abandoned", lambda r: _pct(r["abandonment_rate"], r["escalated"])),
    ("queue_wait", "wait p50", lambda r: _secs(r["queue_wait_median"], r["queue_wait_n"])),
    ("first_response", "1st resp p50", lambda r: _secs(r["first_response_median"], r["first_response_n"])),
    ("resolution_time", "resolve p50", lambda r: _secs(r["resolution_time_median"], r["resolution_time_n"])),
    ("csat", "CSAT 4-5", lambda r: _pct(r["csat"], r["rated"])),
    ("rating_mean", "mean", lambda r: "-" if r["rating_mean"] is None else f"{r['rating_mean']:.2f}"),
    ("repeat_rate", "repeat", lambda r: _pct(r["repeat_rate"], r["fcr_eligible"])),
]


def _pct(value: Optional[float], n: int) -> str:
    return f"- ({n})" if value is None else f"{value * 100:.1f}% ({n})"


def _secs(value: Optional[float], n: int) -> str:
    return f"- ({n})" if value is None else f"{value:.0f}s ({n})"


def render(rows: Sequence[Dict[str, Any]], dimension: str) -> str:
    chosen = [r for r in rows if r["dimension"] == dimension]
    header = [dimension] + [title for _, title, _ in COLUMNS]
    lines = [[str(r["key"])] + [fmt(r) for _, _, fmt in COLUMNS] for r in chosen]
    widths = [max(len(row[i]) for row in [header, *lines]) for i in range(len(header))]
    out = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(header))]
    out.append("  ".join("-" * w for w in widths))
    out += ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(line)) for line in lines]
    return "\n".join(out)


def write_csv(path: Path, rows: List[Dict[str, Any]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        if not rows:
            return
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def main(argv: Optional[Sequence[str]] = None) -> int:
    from handoff.config import REPO_ROOT, Settings

    settings = Settings.from_env()
    default_start, default_end = metrics.default_range()
    parser = argparse.ArgumentParser(
        prog="python -m handoff.analytics.report", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--from", dest="start", type=metrics.parse_day, default=default_start)
    parser.add_argument("--to", dest="end", type=metrics.parse_day, default=default_end - timedelta(days=1))
    parser.add_argument("--window", type=int, default=settings.fcr_window_days, help="FCR window N, days")
    parser.add_argument("--as-of", type=metrics.parse_day, help="compute as at this UTC day (default: now)")
    parser.add_argument("--database-url", default=settings.database_url)
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "results" / "reports")
    parser.add_argument("--quiet", action="store_true", help="only write the files")
    args = parser.parse_args(argv)
    if args.end < args.start:
        parser.error("--to is before --from")
    as_of = metrics.epoch(args.as_of) if args.as_of else None
    db.migrate(args.database_url)
    engine = db.make_engine(args.database_url)
    try:
        with db.sessions(engine)() as session:
            body = metrics.report(session, args.start, args.end + timedelta(days=1), args.window, as_of)
    finally:
        engine.dispose()
    folder = args.out / f"{args.start.isoformat()}_{args.end.isoformat()}"
    folder.mkdir(parents=True, exist_ok=True)
    write_csv(folder / "metrics.csv", body["rows"])
    write_csv(folder / "escalation_reasons.csv", body["escalation_reasons"])
    write_csv(folder / "conversations.csv", body["conversations"])
    summary = {k: body[k] for k in ("from", "to", "window_days", "as_of")}
    summary["all"] = body["rows"][0]
    (folder / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    if not args.quiet:
        print(
            f"Conversations started {args.start} .. {args.end} (UTC), FCR window {args.window} days; "
            "a share is followed by the size of the group it is a share of."
        )
        for dimension in metrics.DIMENSIONS:
            print()
            print(render(body["rows"], dimension))
        print()
        print("Escalations by topic and reason (what to add to the FAQ next):")
        for item in body["escalation_reasons"][:15]:
            print(f"  {item['escalations']:5d}  {item['topic']}  ({item['reason']})")
        print()
        print(f"CSV: {folder}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
