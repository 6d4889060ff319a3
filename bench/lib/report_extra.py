"""Tables for bench/run's non-sysbench scenarios: idle_conns, churn, stream.
Imported by report.py; reads the TSVs and client outputs that bench/lib/extra.sh
writes into the run directory. Standard library only."""

import os
import re
import statistics
import subprocess
import sys
from collections import defaultdict

RE_CONNECTED = re.compile(r"^connected (\d+) (\d+) ([\d.]+)", re.M)
RE_ALIVE = re.compile(r"^alive (\d+)", re.M)
RE_FIRST = re.compile(r"^first_error (.*)$", re.M)
RE_CYCLES = re.compile(r"^cycles (\d+) (\d+) ([\d.]+) ([\d.]+)", re.M)
RE_CYCLE_MS = re.compile(r"^cycle_ms ([\d.]+) ([\d.]+) ([\d.]+) ([\d.]+)", re.M)
RE_STREAM = re.compile(r"^rows (\d+) bytes (\d+) secs ([\d.]+) first_row_ms ([\d.-]+)", re.M)
RE_STREAM_ERR = re.compile(r"^error after (\d+) rows (\d+) bytes ([\d.]+) s: (.*)$", re.M)


def _int(s):
    try:
        return int(s)
    except (TypeError, ValueError):
        return None


def _read(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def _tsv(path):
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        head = f.readline().rstrip("\n").split("\t")
        return [dict(zip(head, line.rstrip("\n").split("\t"))) for line in f if line.strip()]


def _f(x, fmt="{:.1f}"):
    return "—" if x is None else fmt.format(x)


def _mb(kb):
    return None if kb is None else kb / 1024


def _spread(xs, fmt):
    xs = [x for x in xs if x is not None]
    if not xs:
        return "—"
    if len(xs) == 1:
        return fmt.format(xs[0])
    return "%s (%s–%s)" % (fmt.format(statistics.median(xs)), fmt.format(min(xs)),
                           fmt.format(max(xs)))


def _med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def _table(columns, right_from, rows):
    out = ["| " + " | ".join(columns) + " |",
           "|" + "|".join(["---"] * right_from + ["---:"] * (len(columns) - right_from)) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return out


def _gnuplot(script, workdir, name):
    gp = os.path.join(workdir, name + ".gp")
    with open(gp, "w", encoding="utf-8") as f:
        f.write(script)
    try:
        subprocess.run(["gnuplot", gp], check=True, capture_output=True, timeout=60)
        return True
    except (OSError, subprocess.SubprocessError) as e:
        print("bench: gnuplot failed for %s: %s" % (name, e), file=sys.stderr)
        return False


def _write(out, scen, stamp, head, lines, foot, notes, pngs):
    md = os.path.join(out, "%s-%s.md" % (scen, stamp))
    foot = list(foot)
    for n in notes:
        foot.append("- note: " + n)
    for p in pngs:
        foot.append("![%s](%s)" % (os.path.basename(p), os.path.basename(p)))
    with open(md, "w", encoding="utf-8") as f:
        f.write("\n".join(head + [""] + lines + [""] + foot) + "\n")
    print("\n## %s\n" % scen)
    print("\n".join(lines))
    print("\n-> %s" % md)


def _context():
    load1 = open("/proc/loadavg").read().split()[0] if os.path.exists("/proc/loadavg") else "?"
    return "%d CPU(s), load average at the end %s" % (os.cpu_count() or 0, load1)


# ---------------------------------------------------------------- idle_conns
def idle_conns(workdir, out, stamp, notes, summary, workers):
    recs = _tsv(os.path.join(workdir, "idle_conns.tsv"))
    if not recs:
        return
    rows, errs, plot = [], [], defaultdict(list)
    for r in recs:
        text = _read(r["out"])
        m = RE_CONNECTED.search(text)
        ok = int(m.group(1)) if m else None
        secs = float(m.group(3)) if m else None
        a = RE_ALIVE.search(text)
        alive = int(a.group(1)) if a else None
        rss0, rss1, rss2 = _int(r["rss0_kb"]), _int(r["rss1_kb"]), _int(r["rss2_kb"])
        hwm = _int(r["hwm_kb"])
        ticks, clk, isecs = _int(r["idle_ticks"]), _int(r["clk_tck"]) or 100, _int(r["idle_secs"])
        cpu = ticks * 100.0 / clk / isecs if ticks is not None and isecs else None
        per = (rss2 - rss0) / ok if ok and rss0 is not None and rss2 is not None else None
        fe = RE_FIRST.search(text)
        if fe:
            errs.append("- %s n=%s: first failed connect: `%s`" % (r["target"], r["n"],
                                                                   fe.group(1)[:200]))
        if _int(r["rc"]) not in (0, None):
            errs.append("- %s n=%s: holdconns exit %s (%s)" % (
                r["target"], r["n"], r["rc"], text.strip().splitlines()[-1][:200]
                if text.strip() else "no output"))
        asked = r["n"] + ("" if r["n_eff"] == r["n"] else " → %s" % r["n_eff"])
        if r.get("limited_by"):
            asked += "¹"
            notes_l = "- %s n=%s: cut to %s by %s" % (r["target"], r["n"], r["n_eff"],
                                                        r["limited_by"])
            if notes_l not in errs:
                errs.append(notes_l)
        tgt = r["target"] + (" (mariadbd)" if r["kind"] == "db" else "")
        rows.append([tgt, asked, _f(ok, "{}"), _f(secs, "{:.2f}"),
                     _f(alive, "{}") + ("" if alive is None or alive == ok else " ⚠"),
                     _f(_mb(rss0)), _f(_mb(rss1)), _f(_mb(rss2)), _f(per, "{:.1f}"),
                     _f(_mb(hwm)), _f(cpu, "{:.2f}")])
        if ok and rss2 and r["kind"] != "db":  # mariadbd's RSS would flatten the proxies'
            plot[r["target"]].append((ok, rss2 / 1024))
        if r["kind"] != "db":
            summary.append("%-12s %-8s n=%-6s held %-6s RSS %s MB (%s kB/conn), idle CPU %s%%" % (
                "idle_conns", r["target"], r["n_eff"], _f(ok, "{}"), _f(_mb(rss2)),
                _f(per, "{:.1f}"), _f(cpu, "{:.2f}")))
    cols = ["target", "connections asked", "held", "connect s", "alive after idle",
            "RSS before MB", "RSS connected MB", "RSS after idle MB", "kB/conn",
            "VmHWM MB", "idle CPU % of a core"]
    lines = _table(cols, 1, rows)
    head = ["# idle_conns, %s" % stamp, "",
            "Logged-in idle connections held by one client (bench/lib/holdconns.c, libmariadb, "
            "sequential blocking connects), once per target and count; manx workers = %s; %s."
            % (workers, _context())]
    foot = ["held: connections that completed the MySQL handshake. alive after idle: how many "
            "then answered COM_PING after the idle time (⚠ if fewer than held). RSS: VmRSS of "
            "the target process before the first connect, 2 s after the last, and after the "
            "idle time; kB/conn = (RSS after idle − RSS before) / held. VmHWM: peak RSS, reset "
            "before the run. idle CPU: utime+stime of the target over the idle time, in % of "
            "one core. For direct it is the writer mariadbd (which also serves replication and "
            "the proxies' heartbeats). haproxy and direct need a MariaDB connection per client "
            "connection; the writer's max_connections is raised for this scenario.", ""] + errs
    pngs = []
    if plot:
        dat = os.path.join(workdir, "idle_conns.dat")
        names = []
        with open(dat, "w", encoding="utf-8") as f:
            for t, pts in plot.items():
                names.append(t)
                f.write("# %s\n" % t)
                for n, mb in sorted(pts):
                    f.write("%d %.2f\n" % (n, mb))
                f.write("\n\n")
        base = os.path.join(out, "idle_conns-%s-rss" % stamp)
        plots = ",\\\n  ".join("'%s' index %d using 1:2 with linespoints lw 2 title '%s'"
                               % (dat, i, t) for i, t in enumerate(names))
        script = """set terminal pngcairo size 900,540 noenhanced
set output '{base}.png'
set title 'idle_conns: proxy RSS with N idle logged-in connections'
set xlabel 'connections held'
set ylabel 'VmRSS MB'
set logscale x
set key outside right
set grid
set yrange [0:{ymax:.0f}]
set arrow from graph 0, first 64 to graph 1, first 64 nohead dashtype 2 lc rgb 'red'
set label 'manx target at 10000: 64 MB' at graph 0.02, first 67 tc rgb 'red'
plot {plots}
""".format(base=base, plots=plots,
           ymax=max([80.0] + [mb * 1.1 for pts in plot.values() for _, mb in pts]))
        if _gnuplot(script, workdir, "idle_conns"):
            pngs.append(base + ".png")
    _write(out, "idle_conns", stamp, head, lines, foot, notes, pngs)


# ---------------------------------------------------------------- churn
def churn(workdir, out, stamp, notes, summary, workers):
    recs = _tsv(os.path.join(workdir, "churn.tsv"))
    if not recs:
        return
    targets = []
    for r in recs:
        text = _read(r["out"])
        m = RE_CYCLES.search(text)
        r["ok"] = int(m.group(1)) if m else None
        r["err"] = int(m.group(2)) if m else None
        r["rate"] = float(m.group(4)) if m and _int(r["rc"]) == 0 else None
        c = RE_CYCLE_MS.search(text)
        r["ms"] = [float(c.group(i)) for i in (1, 2, 3)] if c else [None] * 3
        fe = RE_FIRST.search(text)
        r["first_error"] = fe.group(1)[:200] if fe else (
            None if _int(r["rc"]) == 0 else (text.strip().splitlines() or ["no output"])[-1][:200])
        clk = _int(r["clk_tck"]) or 100
        for k in ("proxy", "db1", "db2"):
            t = _int(r[k + "_ticks"])
            r[k + "_us"] = t * 1e6 / clk / r["ok"] if t is not None and r["ok"] else None
        if r["target"] not in targets:
            targets.append(r["target"])

    def ratio(tgt, base):
        by = defaultdict(dict)
        for r in recs:
            by[r["round"]][r["target"]] = r["rate"]
        xs = [d[tgt] / d[base] for d in by.values() if d.get(tgt) and d.get(base)]
        if not xs:
            return "—"
        if len(xs) == 1:
            return "%.2f" % xs[0]
        return "%.2f (%.2f–%.2f)" % (statistics.median(xs), min(xs), max(xs))

    rows, errs = [], []
    for t in targets:
        g = [r for r in recs if r["target"] == t]
        ok = [r for r in g if r["rate"] is not None]
        failed = len(g) - len(ok)
        nerr = sum(r["err"] or 0 for r in g)
        db = "—"
        a, b = _med([r["db1_us"] for r in ok]), _med([r["db2_us"] for r in ok])
        if a is not None and b is not None:
            db = "%.0f + %.0f" % (a, b)
        cpu = _med([r["proxy_us"] for r in ok])
        hwm = [_int(r["hwm_kb"]) for r in ok if _int(r["hwm_kb"])]
        rate = _med([r["rate"] for r in ok])
        vs_h = "—" if t == "haproxy" else ratio(t, "haproxy")
        vs_d = "—" if t == "direct" else ratio(t, "direct")
        rows.append([t, g[0]["threads"], _spread([r["rate"] for r in ok], "{:.0f}"),
                     str(sum(r["ok"] or 0 for r in g)),
                     str(nerr) + (" + %d failed run%s" % (failed, "s" if failed > 1 else "")
                                  if failed else ""),
                     _f(_med([r["ms"][0] for r in ok]), "{:.2f}"),
                     _f(_med([r["ms"][1] for r in ok]), "{:.2f}"),
                     _f(_med([r["ms"][2] for r in ok]), "{:.2f}"),
                     _f(cpu, "{:.0f}") + (" (mariadbd)" if g[0]["kind"] == "db" and cpu else ""),
                     db, _f(_mb(max(hwm)) if hwm else None), vs_h, vs_d])
        fe = next((r["first_error"] for r in g if r["first_error"]), None)
        if fe:
            errs.append("- %s: first error: `%s`" % (t, fe))
        if t.startswith("manx") or t in ("peer", "haproxy", "haproxy2"):
            summary.append("%-12s %-8s %s conn/s, %s µs CPU/conn, vs haproxy %s, vs direct %s" % (
                "churn", t, _f(rate, "{:.0f}"), _f(cpu, "{:.0f}"), vs_h, vs_d))
    cols = ["target", "threads", "conn/s median (min–max)", "cycles", "errors", "p50 ms",
            "p95 ms", "p99 ms", "CPU µs/conn", "DB CPU µs/conn (w + r)", "peak RSS MB",
            "vs haproxy", "vs direct"]
    lines = _table(cols, 1, rows)
    reps = len({r["rep"] for r in recs})
    head = ["# churn, %s" % stamp, "",
            "Connection churn: %s client threads (bench/lib/churn.c, libmariadb) each loop "
            "connect + `SELECT 1` + close for %s s; %d repetition(s), targets alternating; "
            "manx workers = %s; %s." % (recs[0]["threads"], recs[0]["secs"], reps, workers,
                                          _context())]
    foot = ["conn/s: completed cycles (connect with full handshake, SELECT 1, COM_QUIT + close) "
            "per second, median over repetitions (min–max). errors: failed cycles summed. "
            "p50/p95/p99: one cycle's time, medians over repetitions. CPU µs/conn: utime+stime "
            "of the target over the run / cycles (for direct: the writer mariadbd). DB CPU: the "
            "same for the writer + the second master. peak RSS: VmHWM, reset before each run. "
            "vs haproxy / vs direct: conn/s over that target's in the same round.", ""] + errs
    _write(out, "churn", stamp, head, lines, foot, notes, [])


# ---------------------------------------------------------------- stream
def stream(workdir, out, stamp, notes, summary, workers):
    recs = _tsv(os.path.join(workdir, "stream.tsv"))
    if not recs:
        return
    rows, errs, series = [], [], []
    for r in recs:
        text = _read(r["out"])
        m = RE_STREAM.search(text)
        e = RE_STREAM_ERR.search(text)
        if m:
            nrows, nbytes, secs, first = (int(m.group(1)), int(m.group(2)), float(m.group(3)),
                                          float(m.group(4)))
        elif e:
            nrows, nbytes, secs, first = int(e.group(1)), int(e.group(2)), float(e.group(3)), None
        else:
            nrows = nbytes = secs = first = None
        samples = []
        for line in _read(r["samples"]).splitlines():
            p = line.split()
            if len(p) == 2 and _int(p[1]):
                samples.append((float(p[0]), int(p[1])))
        rss0 = _int(r["rss0_kb"])
        hwm = _int(r["hwm_kb"])
        peak = max([s[1] for s in samples] + ([hwm] if hwm else []), default=None)
        start = rss0 if rss0 is not None else (samples[0][1] if samples else None)
        growth = peak - start if peak is not None and start is not None else None
        end = samples[-1][1] if samples else None
        ticks, clk = _int(r["ticks"]), _int(r["clk_tck"]) or 100
        result = "ok" if _int(r["rc"]) == 0 and m else "FAILED (exit %s)" % r["rc"]
        if e:
            errs.append("- %s: `%s`" % (r["target"], e.group(0)[:240]))
        elif not m:
            errs.append("- %s: no result: `%s`" % (r["target"], (text.strip().splitlines()
                                                                 or ["no output"])[-1][:200]))
        tgt = r["target"] + (" (mariadbd)" if r["kind"] == "db" else "")
        mib = nbytes / 1048576 if nbytes is not None else None
        rows.append([tgt, r["mb"], _f(nrows, "{}"), _f(mib), _f(secs), _f(
            mib / secs if mib and secs else None), _f(first, "{:.0f}"), _f(_mb(start)),
            _f(_mb(peak)), _f(_mb(growth)), _f(_mb(end)),
            _f(ticks / clk if ticks is not None else None, "{:.2f}"), result])
        if samples:
            series.append((r["target"], samples))
        if r["kind"] != "db":
            summary.append("%-12s %-8s RSS %s → peak %s MB (growth %s MB) over %s MiB in %s s: %s" % (
                "stream", r["target"], _f(_mb(start)), _f(_mb(peak)), _f(_mb(growth)),
                _f(mib, "{:.0f}"), _f(secs, "{:.0f}"), result))
    cols = ["target", "MiB asked", "rows", "MiB received", "seconds", "MiB/s",
            "first row ms", "RSS start MB", "RSS peak MB", "growth MB", "RSS end MB", "CPU s",
            "result"]
    lines = _table(cols, 1, rows)
    head = ["# stream, %s" % stamp, "",
            "One client (bench/lib/streamread.c, libmariadb `mysql_use_result`) reads "
            "`SELECT REPEAT('x', 1024) FROM seq_1_to_<MiB×1024>` throttled to finish in about "
            "%s s, while the target's VmRSS is sampled every 0.5 s; once per target; manx "
            "workers = %s; %s." % (recs[0]["secs"], workers, _context())]
    foot = ["MiB received: row data the client got (column bytes, not protocol overhead). "
            "RSS start: VmRSS before the query; peak: the largest 0.5 s sample or VmHWM (reset "
            "before the run), whichever is higher; growth = peak − start (the bench issue's "
            "target for manx: under 16 MB). RSS end: the last sample. CPU s: utime+stime of the "
            "target during the run. For direct the numbers are the writer mariadbd's.", ""] + errs
    pngs = []
    if series:
        dat = os.path.join(workdir, "stream.dat")
        top = 0.0
        with open(dat, "w", encoding="utf-8") as f:
            for t, samples in series:
                f.write("# %s\n" % t)
                base_kb = samples[0][1]
                for s, kb in samples:
                    top = max(top, (kb - base_kb) / 1024)
                    f.write("%.2f %.2f\n" % (s, (kb - base_kb) / 1024))
                f.write("\n\n")
        base = os.path.join(out, "stream-%s-rss" % stamp)
        plots = ",\\\n  ".join("'%s' index %d using 1:2 with lines lw 2 title '%s'"
                               % (dat, i, t) for i, (t, _) in enumerate(series))
        script = """set terminal pngcairo size 900,540 noenhanced
set output '{base}.png'
set title 'stream: RSS growth while one client reads slowly'
set xlabel 'seconds'
set ylabel 'VmRSS - first sample, MB'
set key outside right
set grid
set yrange [-1:{ymax:.0f}]
set arrow from graph 0, first 16 to graph 1, first 16 nohead dashtype 2 lc rgb 'red'
set label 'manx target: 16 MB' at graph 0.02, first 17 tc rgb 'red'
plot {plots}
""".format(base=base, plots=plots, ymax=max(24.0, top * 1.1))
        if _gnuplot(script, workdir, "stream"):
            pngs.append(base + ".png")
    _write(out, "stream", stamp, head, lines, foot, notes, pngs)


def report(workdir, out, stamp, notes, summary, workers, scenarios):
    for s in scenarios:
        if s == "idle_conns":
            idle_conns(workdir, out, stamp, notes, summary, workers)
        elif s == "churn":
            churn(workdir, out, stamp, notes, summary, workers)
        elif s == "stream":
            stream(workdir, out, stamp, notes, summary, workers)
        elif s == "failover":
            import report_failover
            report_failover.failover(workdir, out, stamp, notes, summary)
