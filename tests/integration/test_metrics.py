"""The metrics endpoint (metrics_listen, issue 11): GET /metrics scraped
with curl and parsed by python3-prometheus-client's text parser, values
that move with traffic through manx and when a server dies, the status page
in headless Chromium, the HTTP limits, and conf/keepalived/check_manx's
exit codes (0 writable, 1 no writable host or the console said `offline`,
2 manx not answering)."""

import os
import re
import shutil
import signal
import socket
import subprocess
import time

import pymysql
import pytest

from conftest import TOP, Manx, free_port, killable_pair, poll, render_config, server_pid, wait_port

pytestmark = pytest.mark.manx_only

CHECK_MANX = TOP / "conf" / "keepalived" / "check_manx"
DASHBOARD = TOP / "conf" / "grafana" / "manx-dashboard.json"


# --- helpers -------------------------------------------------------------------

def curl(url, *args, timeout=10):
    """curl's (status code, body) for url; extra args go to curl."""
    r = subprocess.run(["curl", "--silent", "--noproxy", "*", "--max-time", str(timeout),
                        "--write-out", "\n%{http_code}", *args, url],
                       capture_output=True, text=True, timeout=timeout + 5)
    body, _, code = r.stdout.rpartition("\n")
    return int(code or 0), body


def scrape(port):
    """GET /metrics parsed by prometheus_client: {family name: family} and
    {(sample name, sorted labels): value}."""
    from prometheus_client.parser import text_string_to_metric_families
    code, body = curl(f"http://127.0.0.1:{port}/metrics")
    assert code == 200, body
    families = {f.name: f for f in text_string_to_metric_families(body)}
    samples = {}
    for f in families.values():
        for s in f.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return families, samples


def val(samples, name, **labels):
    """The value of one series, or None when absent."""
    return samples.get((name, tuple(sorted(labels.items()))))


def check_manx(*args):
    r = subprocess.run([str(CHECK_MANX), *args], capture_output=True, text=True, timeout=30)
    return r.returncode, r.stdout.strip()


def chromium():
    for name in ("chromium", "chromium-browser"):
        p = shutil.which(name)
        if p:
            return p
    pytest.skip("needs chromium (tests/run installs it)")


def dump_dom(url, profile):
    """The page's DOM after its scripts ran (virtual time: its first
    fetches of /status.json have answered)."""
    r = subprocess.run([chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                        f"--user-data-dir={profile}", "--virtual-time-budget=3000", "--dump-dom", url],
                       capture_output=True, text=True, timeout=90)
    assert r.returncode == 0, r.stderr[-2000:]
    return r.stdout


def chart_points(dom):
    m = re.search(r'<svg id="chart"[^>]*data-points="(\d+)"', dom)
    assert m, dom[:3000]
    return int(m.group(1))


def host_rows(dom):
    """{host: [cells]} of the status page's host table."""
    rows = {}
    for m in re.finditer(r'<tr data-host="([^"]*)">(.*?)</tr>', dom):
        rows[m.group(1)] = re.findall(r"<td[^>]*>(.*?)</td>", m.group(2))
    return rows


def with_metrics(manx, **kw):
    port = free_port()
    extra = {"metrics_listen": f"127.0.0.1:{port}"}
    extra.update(kw.pop("manx_extra", {}))
    m = manx(manx_extra=extra, **kw)
    assert wait_port("127.0.0.1", port, 10), m.log()[-2000:]
    m.metrics_port = port
    return m


# --- /metrics against the session pair -------------------------------------------

def test_metrics_parse_and_move_with_traffic(manx, table):
    m = with_metrics(manx)
    fam, s0 = scrape(m.metrics_port)
    # Names and types as Prometheus expects them (the parser strips _total
    # from counter families).
    types = {
        "manx_build_info": "gauge", "manx_client_connections": "gauge", "manx_offline": "gauge",
        "manx_client_connections_accepted": "counter", "manx_received_bytes": "counter",
        "manx_sent_bytes": "counter", "manx_statements": "counter",
        "manx_statement_duration_seconds": "histogram", "manx_errors": "counter",
        "manx_host_up": "gauge", "manx_host_role": "gauge", "manx_host_backend_connections": "gauge",
        "manx_host_waiting_clients": "gauge", "manx_host_heartbeat_rtt_seconds": "gauge",
        "manx_host_heartbeat_failures": "counter", "manx_host_heartbeats": "counter",
        "manx_host_replication_lag_seconds": "gauge", "manx_datahost_active_writer_index": "gauge",
        "manx_datahost_switchovers": "counter", "manx_datahost_writable": "gauge",
        "manx_coordination_connected": "gauge", "manx_coordination_lost": "gauge",
        "manx_coordination_decider": "gauge", "manx_coordination_writer_revision": "gauge",
        "manx_coordination_proposals": "counter", "manx_fence_actions": "counter",
    }
    for name, typ in types.items():
        assert name in fam, f"{name} missing; have {sorted(fam)}"
        assert fam[name].type == typ, (name, fam[name].type)
    assert val(s0, "manx_build_info", version=re.search(r'version : \'([^\']+)\'',
               (TOP / "meson.build").read_text()).group(1)) == 1
    hosts = ("hostM1", "hostS1", "hostM2", "hostS2")
    assert poll(lambda: all(val(scrape(m.metrics_port)[1], "manx_host_up", host=h, datahost="localhost1",
                                address=a) == 1
                            for h, a in zip(hosts, (f"127.0.0.1:{m.pair.port1}", f"127.0.0.1:{m.pair.port2}",
                                                    f"127.0.0.1:{m.pair.port2}", f"127.0.0.1:{m.pair.port1}"))),
                10), "every host of the pair is up"
    _, s0 = scrape(m.metrics_port)
    roles = {h: r for (n, lab), v in s0.items() if n == "manx_host_role"
             for h, r in [(dict(lab)["host"], dict(lab)["role"])]}
    assert roles == {"hostM1": "writer", "hostM2": "standby", "hostS1": "reader", "hostS2": "reader"}
    assert val(s0, "manx_datahost_active_writer_index", datahost="localhost1", writer="hostM1") == 0
    assert val(s0, "manx_datahost_writable", datahost="localhost1") == 1
    assert val(s0, "manx_offline") == 0
    assert val(s0, "manx_datahost_switchovers_total", datahost="localhost1") == 0
    # coordination = none: the instance decides alone, never loses anything.
    assert val(s0, "manx_coordination_connected") == 1 and val(s0, "manx_coordination_lost") == 0
    assert val(s0, "manx_coordination_decider", datahost="localhost1") == 1
    assert val(s0, "manx_coordination_writer_revision", datahost="localhost1") == 0
    for result in ("won", "lost"):
        assert val(s0, "manx_coordination_proposals_total", datahost="localhost1", result=result) == 0
    for result in ("ok", "error"):
        assert val(s0, "manx_fence_actions_total", datahost="localhost1", result=result) == 0
    assert val(s0, "manx_host_heartbeats_total", host="hostM1", datahost="localhost1") > 0
    # Replicas report their lag (the pair replicates both ways).
    assert val(s0, "manx_host_replication_lag_seconds", host="hostM2", datahost="localhost1") is not None

    # Traffic through :8066: 7 reads, 3 writes, one backend error, one
    # failed login (manx's own 1045).
    c = m.connect()
    cur = c.cursor()
    cur.execute(f"CREATE TABLE `{table}` (id INT PRIMARY KEY, v VARCHAR(20))")
    for i in range(3):
        cur.execute(f"INSERT INTO `{table}` VALUES (%s, 'x')", (i,))
    for _ in range(7):
        cur.execute(f"SELECT COUNT(*) FROM `{table}`")
        assert cur.fetchone()[0] == 3
    with pytest.raises(pymysql.err.ProgrammingError) as e:
        cur.execute("SELECT * FROM no_such_table_here")
    assert e.value.args[0] == 1146
    with pytest.raises(pymysql.err.OperationalError) as e:
        m.connect(password="wrong")
    assert e.value.args[0] == 1045

    def moved():
        _, s = scrape(m.metrics_port)
        d = lambda name, **lab: (val(s, name, **lab) or 0) - (val(s0, name, **lab) or 0)  # noqa: E731
        deltas.clear()
        deltas.update({n: v - (s0.get((n, lab)) or 0) for (n, lab), v in s.items()})
        return (d("manx_statements_total", **{"class": "read", "target": "writer"}) >= 7 and
                d("manx_statements_total", **{"class": "write", "target": "writer"}) >= 4 and
                d("manx_errors_total", code="1146", source="backend") == 1 and
                d("manx_errors_total", code="1045", source="manx") == 1 and
                d("manx_statement_duration_seconds_count") >= 12 and
                d("manx_statement_duration_seconds_sum") > 0 and
                d("manx_client_connections_accepted_total") >= 2 and
                d("manx_received_bytes_total", side="client") > 0 and
                d("manx_sent_bytes_total", side="client") > 0 and
                d("manx_received_bytes_total", side="backend") > 0 and
                d("manx_sent_bytes_total", side="backend") > 0 and
                d("manx_host_statements_total", host="hostM1", datahost="localhost1", kind="write") >= 12 and
                d("manx_host_errors_total", host="hostM1", datahost="localhost1") == 1)
    deltas = {}
    assert poll(moved, 5), {k: v for k, v in deltas.items() if v}
    # The open session counts, the refused login no longer does.
    assert poll(lambda: val(scrape(m.metrics_port)[1], "manx_client_connections") == 1, 5)
    _, s = scrape(m.metrics_port)
    # A histogram's buckets are cumulative and end at the count.
    buckets = sorted((float(dict(lab)["le"]), v) for (n, lab), v in s.items()
                     if n == "manx_statement_duration_seconds_bucket")
    assert [v for _, v in buckets] == sorted(v for _, v in buckets)
    assert buckets[-1] == (float("inf"), val(s, "manx_statement_duration_seconds_count"))
    # Backend connections: the session's pool has connections to hostM1.
    assert (val(s, "manx_host_backend_connections", host="hostM1", datahost="localhost1", state="idle") or 0) + \
        (val(s, "manx_host_backend_connections", host="hostM1", datahost="localhost1", state="active") or 0) >= 1
    c.close()
    assert poll(lambda: val(scrape(m.metrics_port)[1], "manx_client_connections") == 0, 5)


def test_dashboard_uses_only_metrics_manx_exports(manx):
    """conf/grafana's dashboard asks for nothing manx does not export."""
    import json
    m = with_metrics(manx)
    # manx_errors_total has series once an error was sent.
    with pytest.raises(pymysql.err.OperationalError):
        m.connect(password="wrong")
    assert poll(lambda: any(n == "manx_errors_total" for n, _ in scrape(m.metrics_port)[1]), 5)
    _, s = scrape(m.metrics_port)
    exported = {n for n, _ in s} | {re.sub(r"_(bucket|sum|count)$", "", n) for n, _ in s}
    exported |= {"manx_host_replication_lag_seconds"}  # only while a replica reports one
    dash = json.loads(DASHBOARD.read_text())
    exprs = [t["expr"] for p in dash["panels"] for t in p["targets"]]
    assert exprs
    used = {n for e in exprs for n in re.findall(r"\bmanx_[a-z_]+", e)}
    assert used and used <= exported, used - exported


def test_http_limits(manx):
    """Only GET, no body, a bounded request head, unknown paths 404, and a
    bounded number of connections that cannot keep the endpoint."""
    m = with_metrics(manx)
    base = f"http://127.0.0.1:{m.metrics_port}"
    assert curl(base + "/metrics", "-X", "POST", "--data", "x=1")[0] == 405
    assert curl(base + "/", "--head")[0] == 405
    assert curl(base + "/metrics", "-X", "GET", "--data", "x=1")[0] == 400
    assert curl(base + "/etc/passwd")[0] == 404
    assert curl(base + "/../metrics", "--path-as-is")[0] == 404
    assert curl(base + "/metrics", "-H", "X-Big: " + "a" * 40000)[0] == 431
    code, body = curl(base + "/status.json")
    assert code == 200 and body.startswith("{")
    # 40 connections that send nothing: manx takes 32 (the rest wait in the
    # kernel's backlog, costing manx nothing) and closes each after 10 s
    # idle, so they hold the endpoint for a bounded time only.
    socks = [socket.create_connection(("127.0.0.1", m.metrics_port), timeout=30) for _ in range(40)]
    try:
        start = time.monotonic()
        code, _ = curl(base + "/metrics", timeout=30)
        waited = time.monotonic() - start
        assert code == 200
        assert 8 <= waited < 20, f"a scrape behind 32 idle connections waited {waited:.1f} s"
        for s in socks:
            try:
                assert s.recv(1) == b""
            except ConnectionResetError:
                pass
        assert time.monotonic() - start < 30, "idle connections are timed out"
    finally:
        for s in socks:
            s.close()
    assert curl(base + "/metrics")[0] == 200
    # Meanwhile the proxy itself went on (its workers do not serve HTTP).
    c = m.connect()
    c.cursor().execute("SELECT 1")
    c.close()


def test_status_page_in_chromium(manx, tmp_path):
    m = with_metrics(manx)
    url = f"http://127.0.0.1:{m.metrics_port}/"
    code, html = curl(url)
    assert code == 200 and "<svg" in html
    assert not re.search(r'(src|href)\s*=\s*"(https?:)?//', html), "no external assets"
    hdr = subprocess.run(["curl", "-sI", "-X", "GET", "--noproxy", "*", url], capture_output=True, text=True).stdout
    assert "Content-Security-Policy: default-src 'none'" in hdr
    # Let the sampler take a few samples, then traffic for the chart.
    c = m.connect()
    for _ in range(50):
        c.cursor().execute("SELECT 1")
    first = dump_dom(url, tmp_path / "chromium")
    rows = host_rows(first)
    assert set(rows) == {"hostM1", "hostS1", "hostM2", "hostS2"}, first[:3000]
    assert rows["hostM1"][3] == "writer" and rows["hostM2"][3] == "standby"
    assert poll(lambda: all(r[4] == "UP" for r in host_rows(dump_dom(url, tmp_path / "chromium")).values()), 20)
    assert re.search(r'<tr data-datahost="localhost1"><td>localhost1</td><td class="writer">hostM1</td>', first)
    n1 = chart_points(first)
    for _ in range(50):
        c.cursor().execute("SELECT 1")
    c.close()
    time.sleep(2.5)
    second = dump_dom(url, tmp_path / "chromium")
    n2 = chart_points(second)
    assert n2 > n1 and n2 >= 2, (n1, n2)
    # The chart is drawn from the samples: the QPS line has one point per sample.
    qps = re.search(r'<polyline id="qps" class="qps" points="([^"]*)"', second).group(1)
    assert len(qps.split()) == n2


def console(m, sql):
    c = pymysql.connect(host="127.0.0.1", port=m.admin_port, user="admin", password="admin",
                        connect_timeout=10, read_timeout=30)
    try:
        c.cursor().execute(sql)
    finally:
        c.close()


def test_check_manx_up_offline_and_stopped(manx):
    m = with_metrics(manx, users_extra="\n[admin]\nuser = admin\npassword = admin\n")
    url = f"http://127.0.0.1:{m.metrics_port}/metrics"
    assert poll(lambda: check_manx("-u", url)[0] == 0, 10), check_manx("-u", url)
    rc, out = check_manx("-u", url)
    assert out == "manx OK: 1 dataHost writable"
    rc, out = check_manx("-u", url, "-d", "no_such_datahost")
    assert rc == 1 and "no dataHost" in out
    # The console's offline (draining manx): exported at once, check_manx
    # fails with 1 while every dataHost stays writable, and new clients are
    # refused; online undoes both.
    console(m, "offline")
    assert val(scrape(m.metrics_port)[1], "manx_offline") == 1
    assert val(scrape(m.metrics_port)[1], "manx_datahost_writable", datahost="localhost1") == 1
    rc, out = check_manx("-u", url)
    assert (rc, out) == (1, "manx OFFLINE: not accepting new clients")
    with pytest.raises(pymysql.err.OperationalError) as e:
        m.connect()
    assert e.value.args[0] == 1053
    console(m, "online")
    assert val(scrape(m.metrics_port)[1], "manx_offline") == 0
    rc, out = check_manx("-u", url)
    assert (rc, out) == (0, "manx OK: 1 dataHost writable")
    m.connect().close()
    # Something that answers HTTP but is not manx's metrics is not healthy.
    rc, out = check_manx("-u", f"http://127.0.0.1:{m.metrics_port}/nope")
    assert rc == 2, out
    assert m.terminate() == 0
    rc, out = check_manx("-u", url)
    assert rc == 2 and out.startswith("manx DOWN"), out


# --- values that move when servers die (a pair of our own) ------------------------

@pytest.fixture(scope="module")
def fpair():
    yield from killable_pair("FAILOVER", "failover-pair", 13407, 13408)



def kill9(pair, n):
    pid = server_pid(pair, n)
    assert pid, f"s{n} has no pid file"
    os.kill(pid, signal.SIGKILL)
    port = pair.port1 if n == 1 else pair.port2
    assert poll(lambda: not wait_port("127.0.0.1", port, 0.1), 10), f"s{n} still listens"


def test_failover_moves_metrics_page_and_check_manx(fpair, tmp_path):
    tmp = tmp_path / "manx"
    tmp.mkdir()
    port, aport, mport = free_port(), free_port(), free_port()
    text = render_config(fpair, tmp, port, aport, manx_extra={"metrics_listen": f"127.0.0.1:{mport}"},
                         datahost_extra={"heartbeat_period": "1000ms", "heartbeat_timeout": "1000ms",
                                         "heartbeat_retries": 3, "heartbeat_retry_interval": "200ms",
                                         "rejoin_delay": "1s"})
    m = Manx(fpair, tmp, text, port, aport)
    url = f"http://127.0.0.1:{mport}/metrics"
    try:
        m.start()
        assert wait_port("127.0.0.1", mport, 10)
        up = lambda s, h: val(s, "manx_host_up", host=h, datahost="localhost1",  # noqa: E731
                              address=f"127.0.0.1:{fpair.port1 if h in ('hostM1', 'hostS2') else fpair.port2}")
        assert poll(lambda: all(up(scrape(mport)[1], h) == 1 for h in ("hostM1", "hostM2")), 15)
        assert check_manx("-u", url)[0] == 0

        # The active writeHost dies: it is down, writes move to hostM2,
        # which is writable, so keepalived keeps this manx.
        kill9(fpair, 1)

        def switched():
            _, s = scrape(mport)
            return (up(s, "hostM1") == 0 and
                    val(s, "manx_datahost_active_writer_index", datahost="localhost1", writer="hostM2") == 1 and
                    val(s, "manx_datahost_switchovers_total", datahost="localhost1") == 1 and
                    val(s, "manx_host_heartbeat_failures_total", host="hostM1", datahost="localhost1") >= 3 and
                    val(s, "manx_datahost_writable", datahost="localhost1") == 1)
        assert poll(switched, 20), scrape(mport)[1]
        _, s = scrape(mport)
        roles = {dict(lab)["host"]: dict(lab)["role"] for (n, lab) in s if n == "manx_host_role"}
        assert roles["hostM2"] == "writer" and roles["hostM1"] == "standby"
        rc, out = check_manx("-u", url)
        assert rc == 0, out
        # The status page shows the switch-over and the host down.
        dom = dump_dom(f"http://127.0.0.1:{mport}/", tmp_path / "chromium")
        rows = host_rows(dom)
        assert rows["hostM1"][4] == "DOWN" and rows["hostM2"][3] == "writer"
        assert re.search(r"<tbody><tr><td>[0-9T:.-]+Z</td><td>localhost1</td><td>hostM1</td><td>hostM2</td>"
                         r"<td>heartbeat</td></tr></tbody>", dom), dom[:4000]

        # The last writeHost dies too: no writable host, check_manx says 1.
        kill9(fpair, 2)
        assert poll(lambda: val(scrape(mport)[1], "manx_datahost_writable", datahost="localhost1") == 0, 20)
        rc, out = check_manx("-u", url)
        assert rc == 1 and out == "manx NOT WRITABLE: no writable host in localhost1", out
    finally:
        rc = m.terminate()
        rep = m.sanitizer_report()
        r = fpair.sh("start")
    assert rep is None, rep
    assert rc == 0, m.log()[-3000:]
    assert r.returncode == 0, r.stdout + r.stderr
    # manx stopped: check_manx says 2.
    rc, out = check_manx("-u", url)
    assert rc == 2, out
