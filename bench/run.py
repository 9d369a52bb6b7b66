"""``python -m bench``: how fast is the desk app, against baselines measured in the same run.

Figures and targets (every ratio is against a baseline of the same run):
- start -> rows on screen, 100k, fresh processes (headless ``run_test`` at 80x24): vs a bare
  Textual App <= 1.3x; Textual's DataTable on the same rows >= 50x slower; textual-fastdatatable
  (optional: ``pip install textual-fastdatatable``, the ``bench`` extra) >= 3x slower
- search keystroke -> repaint p95 at 100k: <= 2x a bare Input's keystroke p95
- filter change -> repaint p95 at 100k: <= 3x the bare Input keystroke p95
- peak RSS with the 100k inbox in use: <= 120 MB (and the index's bytes per column)
- inbox first paint at 1M: <= 100 ms and <= 1.5x the 1k figure
- ``--sync``: runs ``bench.bench_sync`` too: push of 10k ops batched vs the same rows in one
  local transaction <= 3x (SQLite, PostgreSQL); initial pull of 100k vs the local bulk-write
  floor <= 1.2x
- wizard commit p95 (and vs an empty durable transaction), first paint at 1k / 10k / 100k

``--compare FILE`` prints the table with the figures of an earlier JSON beside this run's.
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


def compile_bytecode() -> None:
    """Compile the project's modules to bytecode first, as installing a wheel does. Textual in
    site-packages (the baselines) runs from bytecode; with PYTHONDONTWRITEBYTECODE set (as on
    these machines) our modules would otherwise be compiled from source at every start — a
    cost no installed desk pays (it measured ~0.13 s of the start figure)."""
    import compileall

    for pkg in ("sygesikring_tui", "screens", "bench"):
        compileall.compile_dir(str(ROOT / pkg), quiet=1)


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="1000,10000,100000,1000000",
                    help="store sizes (tasks) for the first-paint series (default: 1k,10k,100k,1M)")
    ap.add_argument("--main", type=int, default=100_000, help="store size for the other figures (default 100k)")
    ap.add_argument("--reps", type=int, default=9, help="repetitions of the process-start figures (medians)")
    ap.add_argument("--no-datatable", action="store_true", help="skip the (slow) DataTable baselines")
    ap.add_argument("--sync", action="store_true", help="run bench.bench_sync too (push/pull figures)")
    ap.add_argument("--compare", metavar="FILE", help="an earlier bench JSON to compare with")
    args = ap.parse_args(argv)
    if args.compare and not Path(args.compare).exists():
        ap.error(f"no such file: {args.compare}")
    sys.path.insert(0, str(ROOT))
    compile_bytecode()

    from bench import measure
    from bench.stores import SEED, ensure_store

    sizes = sorted({int(s) for s in args.sizes.split(",") if s.strip()} | {args.main})
    _log(f"stores: {', '.join(f'{s:,}' for s in sizes)} tasks (seed {SEED}; cached in bench/.cache)")
    stores = {s: ensure_store(s) for s in sizes}
    main_store = stores[args.main]
    res: dict[str, Any] = {
        "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "python": platform.python_version(), "machine": platform.machine(), "cpus": os.cpu_count(),
        "main_size": args.main, "loadavg_start": os.getloadavg(),
    }

    _log("peak RSS (fresh processes, started while this process is still small) ...")
    app_rss = _probe("rss", "app", main_store)
    bare_rss = _probe("rss", "bare", main_store)
    res["rss"] = {"app_mb": round(app_rss["vmhwm_mb"], 1), "bare_mb": round(bare_rss["vmhwm_mb"], 1),
                  "app_getrusage_mb": round(app_rss["peak_rss_mb"], 1),
                  "bare_getrusage_mb": round(bare_rss["peak_rss_mb"], 1),
                  "ratio": round(app_rss["vmhwm_mb"] / bare_rss["vmhwm_mb"], 2), "target_mb_max": 120}
    res["index_bytes"] = measure.index_bytes(main_store)

    _log("start -> rows on screen (fresh processes) ...")
    kinds = ["bare", "app"]
    if not args.no_datatable:
        kinds.append("fastdatatable" if _has_fastdatatable() else "")
    tti: dict[str, list[float]] = {k: [] for k in kinds if k}
    for _ in range(args.reps):
        for k in tti:
            tti[k].append(_probe("tti", k, main_store)["tti_s"])
    if not args.no_datatable:
        tti["datatable"] = [_probe("tti", "datatable", main_store)["tti_s"]]  # ~10 s: once
    med = {k: statistics.median(v) for k, v in tti.items()}
    res["tti"] = {"app_ms": [ms(x) for x in tti["app"]], "bare_ms": [ms(x) for x in tti["bare"]],
                  "app_median_ms": ms(med["app"]), "bare_median_ms": ms(med["bare"]),
                  "ratio": round(med["app"] / med["bare"], 2), "target_ratio_max": 1.3}
    for k in ("datatable", "fastdatatable"):
        if k in med:
            res["tti"][f"{k}_median_ms"] = ms(med[k])
            res["tti"][f"{k}_speedup"] = round(med[k] / med["app"], 1)

    _log("first paint per store size ...")
    fp: dict[str, Any] = {}
    for s in sizes:
        xs = asyncio.run(measure.inbox_first_paint(stores[s], reps=9))
        fp[str(s)] = {"median_ms": ms(statistics.median(xs)), "all_ms": [ms(x) for x in xs]}
    res["first_paint"] = fp

    if not args.no_datatable:
        _log(f"DataTable first paint in a running app at {args.main:,} (slow) ...")
        dt, nrows = asyncio.run(measure.datatable_first_paint(main_store))
        ours = fp[str(args.main)]["median_ms"]
        res["datatable"] = {"rows": nrows, "median_ms": ms(statistics.median(dt)), "inbox_ms": ours,
                            "speedup": round(ms(statistics.median(dt)) / ours, 1)}

    _log("keystroke to repaint ...")
    bare = asyncio.run(measure.bare_keystrokes())
    ks = asyncio.run(measure.inbox_keystrokes(main_store))
    bare += asyncio.run(measure.bare_keystrokes())  # before and after: the load may change meanwhile
    bare_p95 = p95(bare)
    targets = {"search": 2.0, "filter": 3.0}
    res["keystrokes"] = {
        k: {"n": len(v), "p50_ms": ms(statistics.median(v)), "p95_ms": ms(p95(v)), "max_ms": ms(max(v)),
            "ratio_to_bare_input_p95": round(p95(v) / bare_p95, 1), "target_ratio_max": targets.get(k)}
        for k, v in ks.items()
    }
    res["keystrokes"]["bare_input"] = {"n": len(bare), "p50_ms": ms(statistics.median(bare)), "p95_ms": ms(bare_p95)}

    _log("wizard commits ...")
    commits, floor, nops = measure.wizard_commits(main_store)
    res["commit"] = {"n": len(commits), "ops_per_commit": nops, "p50_ms": ms(statistics.median(commits)),
                     "p95_ms": ms(p95(commits)), "floor_p95_ms": ms(p95(floor)),
                     "ratio_to_floor_p95": round(p95(commits) / p95(floor), 1), "target_p95_ms_max": 15}

    if args.sync:
        _log("sync (bench.bench_sync, a few minutes) ...")
        env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
        subprocess.run([sys.executable, "-m", "bench.bench_sync"], cwd=ROOT, env=env, check=True,
                       stdout=sys.stderr)
        res["sync"] = json.loads((RESULTS / "sync.json").read_text(encoding="utf-8"))
    res["loadavg_end"] = os.getloadavg()

    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"bench-{datetime.now().strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(res, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    before = json.loads(Path(args.compare).read_text(encoding="utf-8")) if args.compare else None
    print(table(res, before))
    print(f"\nJSON: {out.relative_to(ROOT)}")
    return 0


def _has_fastdatatable() -> bool:
    import importlib.util

    if importlib.util.find_spec("textual_fastdatatable") is None:
        _log("textual-fastdatatable not installed: that baseline is skipped (pip install textual-fastdatatable)")
        return False
    return True


def _get(d: Any, *path: str) -> Any:
    for k in path:
        if not isinstance(d, dict) or k not in d:
            return None
        d = d[k]
    return d


def figures(res: dict[str, Any]) -> list[tuple[str, str, Any, str, bool | None]]:
    """(figure, measured, ratio or value compared, target, met) for every figure in ``res``
    (older JSON files lack some: those rows are left out)."""
    n = f"{res['main_size'] // 1000}k"
    rows: list[tuple[str, str, Any, str, bool | None]] = []
    t = res["tti"]
    rows.append((f"start -> rows on screen, {n}, vs bare App",
                 f"{t['app_median_ms']:.0f} ms vs {t['bare_median_ms']:.0f} ms", t["ratio"], "<= 1.3x",
                 t["ratio"] <= 1.3))
    for k, label, want in (("datatable", "DataTable", 50), ("fastdatatable", "textual-fastdatatable", 3)):
        if f"{k}_speedup" in t:
            sp = t[f"{k}_speedup"]
            rows.append((f"start -> rows, {n}: {label} slower by", f"{t[f'{k}_median_ms']:.0f} ms vs "
                         f"{t['app_median_ms']:.0f} ms", sp, f">= {want}x", sp >= want))
    ks = res["keystrokes"]
    bare = ks["bare_input"]["p95_ms"]
    for k, label in (("search", "search keystroke -> repaint p95"), ("filter", "filter change -> repaint p95"),
                     ("sort", "sort key -> repaint p95")):
        if k in ks:
            v = ks[k]
            want = {"search": 2.0, "filter": 3.0}.get(k)
            rows.append((f"{label}, {n}, vs bare Input", f"{v['p95_ms']:.1f} ms vs {bare:.1f} ms (n={v['n']})",
                         v["ratio_to_bare_input_p95"], f"<= {want}x" if want else "",
                         v["ratio_to_bare_input_p95"] <= want if want else None))
    if "modal_close" in ks:
        rows.append(("closing a dialog that changes nothing", f"p95 {ks['modal_close']['p95_ms']:.1f} ms", None, "", None))
    r = res["rss"]
    rows.append((f"peak RSS, {n} inbox", f"{r['app_mb']:.0f} MB (bare App {r['bare_mb']:.0f} MB)", r["app_mb"],
                 "<= 120 MB", r["app_mb"] <= 120))
    if "index_bytes" in res:
        ib = res["index_bytes"]
        rows.append((f"inbox index, {n}: bytes per task", ", ".join(f"{k} {v}" for k, v in ib["per_task"].items()),
                     ib["total_mb"], "(MB)", None))
    fp = res["first_paint"]
    if "1000000" in fp and "1000" in fp:
        big, small = fp["1000000"]["median_ms"], fp["1000"]["median_ms"]
        ratio = round(big / small, 2)
        rows.append(("first paint 1M vs 1k", f"{big:.1f} ms vs {small:.1f} ms", ratio, "<= 100 ms, <= 1.5x",
                     big <= 100 and ratio <= 1.5))
    for size, v in fp.items():
        rows.append((f"inbox first paint, {int(size):,} tasks", f"{v['median_ms']:.1f} ms", v["median_ms"], "", None))
    if "datatable" in res:
        d = res["datatable"]
        rows.append((f"first paint in a running app, {n}: DataTable slower by",
                     f"{d['median_ms']:.0f} ms vs {d['inbox_ms']:.1f} ms", d["speedup"], "", None))
    c = res["commit"]
    rows.append((f"wizard commit ({c['ops_per_commit']} ops), {n}", f"p95 {c['p95_ms']:.1f} ms vs empty txn "
                 f"{c['floor_p95_ms']:.1f} ms", c["ratio_to_floor_p95"], "p95 <= 15 ms", c["p95_ms"] <= 15))
    for db in ("sqlite", "postgresql"):
        p = _get(res, "sync", f"push_{db}")
        if p and "ratio_push_over_local_txn" in p:
            rows.append((f"push {p['ops_batched']:,} ops batched vs one local txn, {db}",
                         f"{p['batched_s']:.2f} s vs {p['floor_local_txn_s']:.2f} s", p["ratio_push_over_local_txn"],
                         "<= 3x", p["ratio_push_over_local_txn"] <= 3))
        q = _get(res, "sync", f"pull_{db}")
        if q:
            rows.append((f"initial pull {q['tasks']:,} tasks vs local bulk write, {db}",
                         f"{q['pull_s']:.2f} s vs {q['baseline_local_write_s']:.2f} s",
                         q["ratio_pull_over_local_write"], "<= 1.2x", q["ratio_pull_over_local_write"] <= 1.2))
    return rows


def table(res: dict[str, Any], before: dict[str, Any] | None = None) -> str:
    rows = figures(res)
    old = {f[0]: f for f in figures(before)} if before else {}
    head = ["figure", "measured", "value", "target", ""]
    if before:
        head += ["before", "change"]
    out_rows = []
    for name, measured, value, target, met in rows:
        row = [name, measured, "" if value is None else str(value), target,
               "" if met is None else ("ok" if met else "MISSED")]
        if before:
            prev = old.get(name)
            pv = prev[2] if prev else None
            row.append("" if pv is None else str(pv))
            row.append(f"{(value - pv) / pv * 100:+.0f}%" if isinstance(value, (int, float)) and
                       isinstance(pv, (int, float)) and pv else "")
        out_rows.append(row)
    w = [max(len(r[i]) for r in [head, *out_rows]) for i in range(len(head))]
    lines = ["  ".join(h.ljust(w[i]) for i, h in enumerate(head)).rstrip(), "  ".join("-" * x for x in w)]
    lines += ["  ".join(c.ljust(w[i]) for i, c in enumerate(r)).rstrip() for r in out_rows]
    if before:
        lines.append(f"\nbefore: {before.get('when', '?')}; now: {res.get('when', '?')} (compare ratios; absolute "
                     "figures move with the machine's load)")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
