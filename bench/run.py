"""``python -m bench``: how fast is the desk app, against baselines measured in the same run.

Figures (targets from the design brief):
- time to interactive inbox on a 100k-task store vs a bare Textual App, both started the same
  way in a fresh process (headless ``run_test`` at 80×24): ratio, target <= 2x
- inbox first paint at 100k vs Textual's DataTable loading the same rows: ratio, target >= 20x
- search / filter / sort keystroke-to-repaint at 100k: p95 ms, target <= 50 ms (and the ratio
  to the same key presses into a bare Input)
- wizard commit (Store.commit_case, call-up operations) on the 100k store: p95 ms, target
  <= 15 ms (and the ratio to an empty durable transaction on the same file)
- peak RSS of the app used at 100k (fresh process, resource.getrusage): target <= 200 MB
- inbox first paint at 1k / 10k / 100k / 1M: should stay flat

Stores are built with ``training.build`` into ``bench/.cache`` (keyed by size and seed) and
reused; the 1M store takes a while to build the first time. Results: a table on stdout and
JSON in ``bench/results/``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"


def p95(xs: list[float]) -> float:
    if not xs:
        return float("nan")
    xs = sorted(xs)
    k = max(0, min(len(xs) - 1, round(0.95 * (len(xs) - 1))))
    return xs[k]


def ms(x: float) -> float:
    return round(x * 1000, 2)


def _probe(probe: str, kind: str, store: Path) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    spawned = time.time()
    out = subprocess.run([sys.executable, "-m", "bench.probes", probe, kind, str(store), repr(spawned)],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    if out.returncode != 0:
        raise RuntimeError(f"probe {probe} {kind} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="1000,10000,100000,1000000",
                    help="store sizes (tasks) for the first-paint series (default: 1k,10k,100k,1M)")
    ap.add_argument("--main", type=int, default=100_000, help="store size for the other figures (default 100k)")
    ap.add_argument("--reps", type=int, default=5, help="repetitions of the process-start figures")
    ap.add_argument("--no-datatable", action="store_true", help="skip the (slow) DataTable baseline")
    args = ap.parse_args(argv)
    sys.path.insert(0, str(ROOT))

    from bench import measure
    from bench.stores import SEED, ensure_store

    sizes = sorted({int(s) for s in args.sizes.split(",") if s.strip()} | {args.main})
    _log(f"stores: {', '.join(f'{s:,}' for s in sizes)} tasks (seed {SEED}; cached in bench/.cache)")
    stores = {s: ensure_store(s) for s in sizes}
    main_store = stores[args.main]
    res: dict[str, Any] = {
        "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "python": platform.python_version(), "machine": platform.machine(), "cpus": os.cpu_count(),
        "main_size": args.main,
    }

    _log("peak RSS (fresh processes, started while this process is still small) ...")
    app_rss = _probe("rss", "app", main_store)
    bare_rss = _probe("rss", "bare", main_store)
    res["rss"] = {"app_mb": round(app_rss["vmhwm_mb"], 1), "bare_mb": round(bare_rss["vmhwm_mb"], 1),
                  "app_getrusage_mb": round(app_rss["peak_rss_mb"], 1),
                  "bare_getrusage_mb": round(bare_rss["peak_rss_mb"], 1),
                  "ratio": round(app_rss["vmhwm_mb"] / bare_rss["vmhwm_mb"], 2), "target_mb_max": 200}

    _log("time to interactive (fresh processes) ...")
    tti_app, tti_bare = [], []
    for _ in range(args.reps):
        tti_bare.append(_probe("tti", "bare", main_store)["tti_s"])
        tti_app.append(_probe("tti", "app", main_store)["tti_s"])
    res["tti"] = {"app_ms": [ms(x) for x in tti_app], "bare_ms": [ms(x) for x in tti_bare],
                  "app_median_ms": ms(statistics.median(tti_app)), "bare_median_ms": ms(statistics.median(tti_bare)),
                  "ratio": round(statistics.median(tti_app) / statistics.median(tti_bare), 2), "target_ratio_max": 2.0}

    _log("first paint per store size ...")
    fp: dict[str, Any] = {}
    for s in sizes:
        xs = asyncio.run(measure.inbox_first_paint(stores[s]))
        fp[str(s)] = {"median_ms": ms(statistics.median(xs)), "all_ms": [ms(x) for x in xs]}
    res["first_paint"] = fp

    if not args.no_datatable:
        _log(f"DataTable baseline at {args.main:,} (slow) ...")
        dt, nrows = asyncio.run(measure.datatable_first_paint(main_store))
        ours = fp[str(args.main)]["median_ms"]
        res["datatable"] = {"rows": nrows, "median_ms": ms(statistics.median(dt)), "inbox_ms": ours,
                            "speedup": round(ms(statistics.median(dt)) / ours, 1), "target_speedup_min": 20}

    _log("keystroke to repaint ...")
    ks = asyncio.run(measure.inbox_keystrokes(main_store))
    bare = asyncio.run(measure.bare_keystrokes())
    bare_p95 = p95(bare)
    res["keystrokes"] = {
        k: {"n": len(v), "p50_ms": ms(statistics.median(v)), "p95_ms": ms(p95(v)), "max_ms": ms(max(v)),
            "ratio_to_bare_input_p95": round(p95(v) / bare_p95, 1), "target_p95_ms_max": 50}
        for k, v in ks.items()
    }
    res["keystrokes"]["bare_input"] = {"n": len(bare), "p50_ms": ms(statistics.median(bare)), "p95_ms": ms(bare_p95)}

    _log("wizard commits ...")
    commits, floor, nops = measure.wizard_commits(main_store)
    res["commit"] = {"n": len(commits), "ops_per_commit": nops, "p50_ms": ms(statistics.median(commits)),
                     "p95_ms": ms(p95(commits)), "floor_p95_ms": ms(p95(floor)),
                     "ratio_to_floor_p95": round(p95(commits) / p95(floor), 1), "target_p95_ms_max": 15}

    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"bench-{datetime.now().strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(res, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(table(res))
    print(f"\nJSON: {out.relative_to(ROOT)}")
    return 0


def table(res: dict[str, Any]) -> str:
    n = f"{res['main_size'] // 1000}k"
    rows: list[tuple[str, str, str, str]] = []

    def ok(good: bool) -> str:
        return "ok" if good else "MISSED"

    t = res["tti"]
    rows.append((f"time to interactive inbox, {n}", f"{t['app_median_ms']:.0f} ms vs bare App {t['bare_median_ms']:.0f} ms",
                 f"{t['ratio']}x (<= 2x)", ok(t["ratio"] <= 2)))
    if "datatable" in res:
        d = res["datatable"]
        rows.append((f"first paint, {n}: inbox vs DataTable", f"{d['inbox_ms']:.1f} ms vs {d['median_ms']:.0f} ms "
                     f"({d['rows']:,} rows)", f"{d['speedup']}x faster (>= 20x)", ok(d["speedup"] >= 20)))
    for k, v in res["keystrokes"].items():
        if k == "bare_input":
            rows.append(("keystroke, bare Textual Input", f"p95 {v['p95_ms']:.1f} ms", "(baseline)", ""))
            continue
        if k == "modal_close":
            rows.append(("closing a dialog that changes nothing", f"p95 {v['p95_ms']:.1f} ms (n={v['n']})",
                         "(baseline for filter)", ""))
            continue
        rows.append((f"{k} keystroke to repaint, {n}", f"p95 {v['p95_ms']:.1f} ms (n={v['n']})",
                     f"{v['ratio_to_bare_input_p95']}x bare (<= 50 ms)", ok(v["p95_ms"] <= 50)))
    c = res["commit"]
    rows.append((f"wizard commit ({c['ops_per_commit']} ops), {n}", f"p95 {c['p95_ms']:.1f} ms (n={c['n']})",
                 f"{c['ratio_to_floor_p95']}x empty txn (<= 15 ms)", ok(c["p95_ms"] <= 15)))
    r = res["rss"]
    rows.append((f"peak RSS, {n}", f"{r['app_mb']:.0f} MB vs bare App {r['bare_mb']:.0f} MB", f"{r['ratio']}x (<= 200 MB)",
                 ok(r["app_mb"] <= 200)))
    for size, v in res["first_paint"].items():
        rows.append((f"inbox first paint, {int(size):,} tasks", f"{v['median_ms']:.1f} ms", "flat", ""))
    w = [max(len(r[i]) for r in rows) for i in range(4)]
    head = ("figure", "measured", "ratio (target)", "")
    lines = ["  ".join(h.ljust(w[i]) for i, h in enumerate(head)).rstrip(), "  ".join("-" * x for x in w)]
    lines += ["  ".join(c.ljust(w[i]) for i, c in enumerate(r)).rstrip() for r in rows]
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
