#!/usr/bin/python3
"""Turn bench/run's runs.tsv and sysbench logs into one markdown table per
scenario, gnuplot PNGs, and a short summary on stdout. Standard library only."""

import argparse
import os
import re
import statistics
import subprocess
import sys
from collections import defaultdict

RE_QUERIES = re.compile(r"^\s*queries:\s+(\d+)\s+\(([\d.]+) per sec\.\)", re.M)
RE_TRX = re.compile(r"^\s*transactions:\s+(\d+)\s+\(([\d.]+) per sec\.\)", re.M)
RE_ERR = re.compile(r"^\s*ignored errors:\s+(\d+)", re.M)
RE_RECONN = re.compile(r"^\s*reconnects:\s+(\d+)", re.M)
RE_P95 = re.compile(r"^\s*95th percentile:\s+([\d.]+)", re.M)
RE_HIST = re.compile(r"^\s+([\d.]+)\s+\|\**\s+(\d+)\s*$", re.M)
RE_SB_RW = re.compile(r"^\s*(read|write|other):\s+(\d+)\s*$", re.M)
RE_FATAL = re.compile(r"FATAL|\berror\b|can't|failed|timed out", re.I)


def parse_log(path):
    """Numbers of one sysbench run; None for what the log lacks."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
    except OSError:
        return {}
    r = {}
    m = RE_QUERIES.search(text)
    if m:
        r["queries"], r["qps"] = int(m.group(1)), float(m.group(2))
    m = RE_TRX.search(text)
    if m:
        r["trx"], r["tps"] = int(m.group(1)), float(m.group(2))
    m = RE_ERR.search(text)
    if m:
        r["errors"] = int(m.group(1))
    m = RE_RECONN.search(text)
    if m:
        r["reconnects"] = int(m.group(1))
    for kind, n in RE_SB_RW.findall(text):
        r["sb_" + kind] = int(n)
    m = RE_P95.search(text)
    if m:
        r["p95"] = float(m.group(1))
    hist = [(float(v), int(c)) for v, c in RE_HIST.findall(text)]
    if hist:
        r["p50"] = percentile(hist, 0.50)
        r["p99"] = percentile(hist, 0.99)
        r.setdefault("p95", percentile(hist, 0.95))
    for line in text.splitlines():
        if RE_FATAL.search(line) and "ignored errors" not in line:
            r["first_error"] = line.strip()[:200]
            break
    return r


def percentile(hist, q):
    """The smallest bucket value whose cumulative count reaches q of all,
    as sysbench computes its own --percentile from the same histogram."""
    total = sum(c for _, c in hist)
    need = q * total
    acc = 0
    for v, c in sorted(hist):
        acc += c
        if acc >= need:
            return v
    return hist[-1][0]


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def fnum(x, fmt="{:.0f}"):
    return "—" if x is None else fmt.format(x)


def spread(xs, fmt):
    xs = [x for x in xs if x is not None]
    if not xs:
        return "—"
    if len(xs) == 1:
        return fmt.format(xs[0])
    return "%s (%s–%s)" % (fmt.format(statistics.median(xs)), fmt.format(min(xs)),
                           fmt.format(max(xs)))


def to_int(s):
    try:
        return int(s)
    except (TypeError, ValueError):
        return None


def load(tsv):
    rows = []
    with open(tsv, encoding="utf-8") as f:
        head = f.readline().rstrip("\n").split("\t")
        for line in f:
            rec = dict(zip(head, line.rstrip("\n").split("\t")))
            rec.update(parse_log(rec["log"]))
            rec["rc"] = to_int(rec["rc"])
            rec["threads"] = to_int(rec["threads"])
            clk = to_int(rec.get("clk_tck")) or 100
            q = rec.get("queries")
            ok = rec["rc"] == 0 and q
            for key in ("proxy", "db1", "db2"):
                t = to_int(rec.get(key + "_ticks"))
                rec[key + "_us"] = (t * 1e6 / clk / q) if (ok and t is not None) else None
            kb = to_int(rec.get("hwm_kb"))
            rec["rss_mb"] = kb / 1024 if kb else None
            if not ok:
                rec["qps"] = None
            rows.append(rec)
    return rows


def ratios(rows, target, base):
    """target QPS / base QPS within each round (the same scenario, threads and
    ps mode, run back to back), so drift of the machine cancels out."""
    by_round = defaultdict(dict)
    for r in rows:
        by_round[r["round"]][r["target"]] = r.get("qps")
    out = []
    for rd in by_round.values():
        a, b = rd.get(target), rd.get(base)
        if a and b:
            out.append(a / b)
    return out


def db_cell(ok):
    """Both servers' CPU per query as 'writer + second master', medians: the
    split shows where a proxy sent the reads."""
    a, b = med([r["db1_us"] for r in ok]), med([r["db2_us"] for r in ok])
    if a is None or b is None:
        return "—"
    return "%.1f + %.1f" % (a, b)


def ratio_cell(xs):
    if not xs:
        return "—"
    if len(xs) == 1:
        return "%.2f" % xs[0]
    return "%.2f (%.2f–%.2f)" % (statistics.median(xs), min(xs), max(xs))


# ---------------------------------------------------------------- routing
# bench/run leaves next to every run log <log>.st0/.st1 (both servers'
# SHOW GLOBAL STATUS counters, "port<TAB>name<TAB>value") and, for manx,
# <log>.ds0/.ds1 (the admin console's `show @@datasource`, Mycat's columns
# then manx's: DATANODE NAME TYPE HOST PORT W/R ACTIVE IDLE SIZE EXECUTE
# READ_LOAD WRITE_LOAD STATUS WAITING ERRORS DATAHOST ROLE).

DS_COLS = ["DATANODE", "NAME", "TYPE", "HOST", "PORT", "W/R", "ACTIVE", "IDLE", "SIZE", "EXECUTE",
           "READ_LOAD", "WRITE_LOAD", "STATUS", "WAITING", "ERRORS", "DATAHOST", "ROLE"]


def read_ds(path):
    """{host: row dict} from one `show @@datasource` snapshot, or None."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            lines = [l.rstrip("\n").split("\t") for l in f if l.strip()]
    except OSError:
        return None
    out = {}
    for cells in lines:
        if len(cells) < len(DS_COLS):
            continue
        row = dict(zip(DS_COLS, cells))
        for k in ("READ_LOAD", "WRITE_LOAD", "ERRORS"):
            row[k] = to_int(row[k])
        out[row["NAME"]] = row
    return out or None


def read_st(path):
    """{port: {variable: value}} from one SHOW GLOBAL STATUS snapshot, or None."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            lines = [l.rstrip("\n").split("\t") for l in f if l.strip()]
    except OSError:
        return None
    out = defaultdict(dict)
    for cells in lines:
        if len(cells) == 3 and to_int(cells[2]) is not None:
            out[cells[0]][cells[1].lower()] = int(cells[2])
    return dict(out) or None


def route_of(rec):
    """Per-host deltas of manx's counters and per-server deltas of the
    servers' counters over one run (None where a snapshot is missing)."""
    log = rec["log"]
    rt = {}
    a, b = read_ds(log + ".ds0"), read_ds(log + ".ds1")
    if a and b:
        hosts = []
        for name, row in b.items():
            old = a.get(name, {})
            def dd(k):
                x, y = old.get(k), row.get(k)
                return (y - x) if (x is not None and y is not None) else None
            hosts.append({"name": name, "address": row["HOST"] + ":" + row["PORT"], "type": row["ROLE"],
                          "reads": dd("READ_LOAD"), "writes": dd("WRITE_LOAD"),
                          "errors": dd("ERRORS")})
        rt["hosts"] = hosts
    a, b = read_st(log + ".st0"), read_st(log + ".st1")
    if a and b:
        servers = []
        for port in sorted(b):
            if port not in a:
                continue
            servers.append((port, {k: b[port][k] - a[port].get(k, 0) for k in b[port]}))
        rt["servers"] = servers
    return rt


def share_cell(pairs):
    """'a 48% b 47% c 5%' from (label, count) pairs, largest first; '—'
    when nothing was counted."""
    pairs = [(l, n) for l, n in pairs if n is not None]
    tot = sum(n for _, n in pairs)
    if not pairs or tot <= 0:
        return "—"
    pairs.sort(key=lambda p: -p[1])
    return " ".join("%s %.0f%%" % (l, 100.0 * n / tot) for l, n in pairs) + " (%d)" % tot


def host_shares(rt, key):
    if not rt.get("hosts"):
        return "—"
    return share_cell([(h["name"], h[key]) for h in rt["hosts"]])


def server_shares(rt, key):
    if not rt.get("servers"):
        return "—"
    return share_cell([(":" + port, d.get(key)) for port, d in rt["servers"]])


ROUTE_COLUMNS = ["target", "threads", "ps", "rep", "sysbench reads / writes",
                 "manx reads / sysbench reads", "reads by host (manx)", "writes by host (manx)",
                 "Com_select by server", "Questions by server"]


def route_table(rows, targets):
    """One row per run: where its reads and writes went, as manx counted them
    and as the servers counted them."""
    runs = sorted(rows, key=lambda r: (targets.index(r["target"]), r["threads"], r["ps"],
                                       to_int(r["rep"]) or 0))
    lines = ["| " + " | ".join(ROUTE_COLUMNS) + " |",
             "|" + "|".join(["---"] * 3 + ["---:"] * 3 + ["---"] * (len(ROUTE_COLUMNS) - 6)) + "|"]
    data = []
    addr = {}
    for r in runs:
        rt = route_of(r)
        if not rt:
            continue
        for h in rt.get("hosts", []):
            addr[h["name"]] = "%s = %s (%s)" % (h["name"], h["address"], h["type"])
        sb = "%s / %s" % (fnum(r.get("sb_read")), fnum(r.get("sb_write")))
        mr = None
        if rt.get("hosts") and r.get("sb_read"):
            mr = 100.0 * sum(h["reads"] or 0 for h in rt["hosts"]) / r["sb_read"]
        cells = [r["target"], str(r["threads"]), r["ps"], r["rep"], sb, fnum(mr, "{:.1f}%"),
                 host_shares(rt, "reads"), host_shares(rt, "writes"),
                 server_shares(rt, "com_select"), server_shares(rt, "questions")]
        lines.append("| " + " | ".join(cells) + " |")
        data.append({"target": r["target"], "threads": r["threads"], "ps": r["ps"],
                     "rep": r["rep"], "cells": cells,
                     "host_errors": sum(h["errors"] or 0 for h in rt.get("hosts", []))})
    if not data:
        return [], [], []
    return lines, data, [addr[k] for k in sorted(addr)]


COLUMNS = ["target", "threads", "ps", "QPS median (min–max)", "TPS", "p50 ms", "p95 ms",
           "p99 ms", "errors", "CPU µs/query", "DB CPU µs/query (w + r)", "peak RSS MB",
           "vs haproxy", "vs direct"]


def scenario_table(rows, targets):
    """The one table of a scenario: rows target x threads x ps mode."""
    groups = defaultdict(list)
    for r in rows:
        groups[(r["threads"], r["ps"], r["target"])].append(r)
    keys = sorted(groups, key=lambda k: (targets.index(k[2]), k[0], k[1]))
    lines = ["| " + " | ".join(COLUMNS) + " |",
             "|" + "|".join(["---"] * 3 + ["---:"] * (len(COLUMNS) - 3)) + "|"]
    data = []
    for th, ps, tgt in keys:
        g = groups[(th, ps, tgt)]
        ok = [r for r in g if r.get("qps")]
        failed = len(g) - len(ok)
        errs = sum(r.get("errors", 0) for r in ok)
        err_cell = str(errs) + (" + %d failed run%s" % (failed, "s" if failed > 1 else "")
                                if failed else "")
        cpu = med([r["proxy_us"] for r in ok])
        cpu_cell = fnum(cpu, "{:.1f}")
        if g[0]["kind"] == "db" and cpu is not None:
            cpu_cell += " (mariadbd)"
        rss = [r["rss_mb"] for r in ok if r["rss_mb"]]
        same = [r for r in rows if r["threads"] == th and r["ps"] == ps]
        vs_h = "—" if tgt == "haproxy" else ratio_cell(ratios(same, tgt, "haproxy"))
        vs_d = "—" if tgt == "direct" else ratio_cell(ratios(same, tgt, "direct"))
        stat = {
            "target": tgt, "threads": th, "ps": ps,
            "qps": med([r["qps"] for r in ok]), "tps": med([r.get("tps") for r in ok]),
            "p50": med([r.get("p50") for r in ok]), "p95": med([r.get("p95") for r in ok]),
            "p99": med([r.get("p99") for r in ok]), "vs_h": vs_h, "vs_d": vs_d,
            "first_error": next((r["first_error"] for r in g if r.get("first_error")), None),
        }
        data.append(stat)
        cells = [tgt, str(th), ps, spread([r["qps"] for r in ok], "{:.0f}"),
                 fnum(stat["tps"]), fnum(stat["p50"], "{:.2f}"), fnum(stat["p95"], "{:.2f}"),
                 fnum(stat["p99"], "{:.2f}"), err_cell, cpu_cell,
                 db_cell(ok),
                 fnum(max(rss) if rss else None, "{:.1f}"), vs_h, vs_d]
        lines.append("| " + " | ".join(cells) + " |")
    return lines, data


def plot(scen, data, targets, out, stamp, workdir):
    """QPS against threads per target, and the latency percentiles per row."""
    base = os.path.join(out, "%s-%s" % (scen, stamp))
    qdat = os.path.join(workdir, "%s-qps.dat" % scen)
    ldat = os.path.join(workdir, "%s-lat.dat" % scen)
    series = []
    with open(qdat, "w", encoding="utf-8") as f:
        for tgt in targets:
            for ps in sorted({d["ps"] for d in data}):
                pts = sorted((d["threads"], d["qps"]) for d in data
                             if d["target"] == tgt and d["ps"] == ps and d["qps"])
                if not pts:
                    continue
                series.append("%s/%s" % (tgt, ps))
                f.write("# %s/%s\n" % (tgt, ps))
                for th, q in pts:
                    f.write("%d %.1f\n" % (th, q))
                f.write("\n\n")
    with open(ldat, "w", encoding="utf-8") as f:
        for d in data:
            if d["p50"] is None:
                continue
            f.write('"%s t%d %s" %.3f %.3f %.3f\n' % (d["target"], d["threads"], d["ps"],
                                                    d["p50"], d["p95"], d["p99"]))
    if not series:
        return []
    plots = ",\\\n  ".join("'%s' index %d using 1:2 with linespoints lw 2 title '%s'"
                           % (qdat, i, s) for i, s in enumerate(series))
    script = """set terminal pngcairo size 900,540 noenhanced
set output '{base}-qps.png'
set title '{scen}: QPS by client threads'
set xlabel 'sysbench threads'
set ylabel 'queries per second'
set key outside right
set grid
set yrange [0:*]
set xtics ({xtics})
set offsets 0.5, 0.5, 0, 0
plot {plots}
set output '{base}-latency.png'
set title '{scen}: latency percentiles (ms, medians over repetitions)'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set xtics rotate by -30
set xlabel ''
set ylabel 'ms'
set offsets 0, 0, 0, 0
plot '{ldat}' using 2:xtic(1) title 'p50', '' using 3 title 'p95', '' using 4 title 'p99'
""".format(base=base, scen=scen, plots=plots, ldat=ldat,
           xtics=", ".join(str(t) for t in sorted({d["threads"] for d in data})))
    gp = os.path.join(workdir, "%s.gp" % scen)
    with open(gp, "w", encoding="utf-8") as f:
        f.write(script)
    try:
        subprocess.run(["gnuplot", gp], check=True, capture_output=True, timeout=60)
    except (OSError, subprocess.SubprocessError) as e:
        print("bench: gnuplot failed for %s: %s" % (scen, e), file=sys.stderr)
        return []
    return [base + "-qps.png", base + "-latency.png"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--stamp", required=True)
    ap.add_argument("--notes")
    ap.add_argument("--time")
    ap.add_argument("--tables")
    ap.add_argument("--table-size")
    ap.add_argument("--workers")
    ap.add_argument("--sysbench-args", default="")
    ap.add_argument("--extra-dir", help="run dir with idle_conns/churn/stream TSVs")
    ap.add_argument("--scenarios", default="")
    a = ap.parse_args()

    rows = load(a.runs)
    workdir = os.path.dirname(os.path.abspath(a.runs))
    notes = []
    if a.notes and os.path.exists(a.notes):
        with open(a.notes, encoding="utf-8") as f:
            notes = [n.strip() for n in f if n.strip()]
    targets = []
    for r in rows:
        if r["target"] not in targets:
            targets.append(r["target"])
    scenarios = []
    for r in rows:
        if r["scenario"] not in scenarios:
            scenarios.append(r["scenario"])
    reps = len({r["rep"] for r in rows})
    load1 = open("/proc/loadavg").read().split()[0] if os.path.exists("/proc/loadavg") else "?"

    summary = []
    routes = []
    for scen in scenarios:
        srows = [r for r in rows if r["scenario"] == scen]
        lines, data = scenario_table(srows, targets)
        pngs = plot(scen, data, targets, a.out, a.stamp, workdir)
        md = os.path.join(a.out, "%s-%s.md" % (scen, a.stamp))
        head = [
            "# sysbench oltp_%s, %s" % (scen, a.stamp), "",
            "%d repetition(s) of %s s per run, targets alternating run by run (%s); "
            "%s tables x %s rows; manx workers = %s; haproxy nbthread 1 (haproxy2: = workers); "
            "%d CPU(s), load average at the end %s." % (
                reps, a.time, " ".join(targets), a.tables, a.table_size, a.workers,
                os.cpu_count() or 0, load1) +
            (" Extra sysbench arguments: `%s`." % a.sysbench_args if a.sysbench_args else ""), "",
        ]
        foot = ["",
                "QPS: median over repetitions (min–max). TPS and latencies: medians; latency is "
                "per sysbench event (transaction). p95 is sysbench's own, p50/p99 from its "
                "histogram. CPU µs/query: utime+stime of the target process from /proc over the "
                "run / queries (for direct: the writer mariadbd). DB CPU: the same for the writer (w, "
                "port 1) + the second master (r, port 2), which shows where reads went. "
                "Peak RSS: VmHWM, reset before each run. vs haproxy / vs direct: this target's "
                "QPS over that target's in the same round, median (min–max).", ""]
        rlines, rdata, hosts = route_table(srows, targets)
        if rlines:
            foot += ["## Where the statements went", "",
                     "One row per run. Shares of the run's statements, largest first, "
                     "the total in parentheses. *sysbench reads / writes*: its own count. *manx reads / sysbench reads*: how "
                     "many of the reads manx sent as reads (the rest went to the writer). "
                     "*by host (manx)*: the READS / WRITES counters of manx's admin console "
                     "(`show @@datasource`), after minus before the run: what manx routed as a "
                     "read (to the read hosts under balance=1) and as a write (to the active "
                     "writer: the writes, and every statement of a transaction, BEGIN and "
                     "COMMIT and the SELECTs inside it included). *by server*: "
                     "`SHOW GLOBAL STATUS` deltas on each MariaDB of the pair (:port), which "
                     "also covers direct and haproxy. Com_select: the SELECTs the server ran, "
                     "prepared ones included (so not added to Com_stmt_execute, which counts "
                     "every prepared statement, writes and BEGIN/COMMIT too; both are in the raw "
                     "`<log>.st0/.st1`). Questions: every client statement, reads and writes, "
                     "not the replicated row events (Com_insert/update/delete are left out: "
                     "the second master counts the replicated ones too). manx's heartbeats "
                     "(SHOW SLAVE STATUS) are in neither. Mode `-notrx`: sysbench "
                     "`--skip_trx=on`, every statement in autocommit.", ""] + rlines + [""]
            if hosts:
                foot.append("Hosts: " + "; ".join(hosts) + ".")
                foot.append("")
        errs = [d for d in data if d["first_error"]]
        for d in errs:
            foot.append("- %s t%d %s: first error line: `%s`" % (
                d["target"], d["threads"], d["ps"], d["first_error"]))
        for n in notes:
            foot.append("- note: " + n)
        for p in pngs:
            foot.append("![%s](%s)" % (os.path.basename(p), os.path.basename(p)))
        with open(md, "w", encoding="utf-8") as f:
            f.write("\n".join(head + lines + foot) + "\n")
        print("\n## %s\n" % scen)
        print("\n".join(lines))
        if rlines:
            print("\n### %s: where the statements went\n" % scen)
            print("\n".join(rlines))
        print("\n-> %s" % md)
        for d in rdata:
            c = d["cells"]
            routes.append("%-12s %-8s t%-3d %-12s rep %s  manx reads/sysbench reads %s | reads "
                          "by host: %s | writes by host: %s | Com_select by server: %s | "
                          "Questions by server: %s" % (
                              scen, d["target"], d["threads"], d["ps"], d["rep"], c[5], c[6],
                              c[7], c[8], c[9]))
        for d in data:
            if d["target"].startswith("manx") or d["target"] in ("peer", "haproxy2"):
                summary.append("%-12s %-8s t%-3d %-7s QPS %8s  vs haproxy %-18s vs direct %s" % (
                    scen, d["target"], d["threads"], d["ps"], fnum(d["qps"]),
                    d["vs_h"], d["vs_d"]))
    if a.extra_dir:
        import report_extra
        report_extra.report(a.extra_dir, a.out, a.stamp, notes, summary, a.workers,
                            [s for s in a.scenarios.split(",") if s])
    print("\nSummary (ratios: median (min–max) over rounds):")
    for s in summary or ["(no proxy target besides haproxy ran)"]:
        print("  " + s)
    if routes:
        print("\nShares of reads and writes per run (manx: per host from `show @@datasource`; "
              "servers: Com_* deltas per port):")
        for s in routes:
            print("  " + s)
    for n in notes:
        print("  note: " + n)
    failed = [r for r in rows if not r.get("qps")]
    if failed:
        print("  %d run(s) failed; see their logs, e.g. %s" % (len(failed), failed[0]["log"]))


if __name__ == "__main__":
    main()
