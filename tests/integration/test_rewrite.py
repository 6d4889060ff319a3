"""Statements manx changes or answers itself: sql_max_limit (Mycat's
sqlMaxLimit) appends a LIMIT to SELECTs that have none, and
CONNECTION_ID() is the session's own stable id."""

import pytest

import conftest

pytestmark = pytest.mark.manx_only


def config(limit):
    cfg = conftest.BASE_INI.replace("[schema aiurt-platform]\ndatanode = dn1",
                                    f"[schema aiurt-platform]\ndatanode = dn1\nsql_max_limit = {limit}")
    manx_block = ("listen = 127.0.0.1:{port}\nadmin_listen = 127.0.0.1:{admin_port}\nworkers = 2\n"
                  "state_dir = {tmp}/state\nlog_level = debug\nshutdown_timeout = 5000\n")
    dh_block = "balance = 0\nmax_con = 20\nmin_con = 1\nwrite_hosts = hostM1, hostM2\n"
    return cfg.replace("{manx_block}", manx_block).replace("{users_extra}", "").replace(
        "{datahost_block}", dh_block)


def rows(m, sql):
    c = m.connect()
    with c.cursor() as cur:
        cur.execute(sql)
        out = cur.fetchall()
    c.close()
    return out


def test_sql_max_limit(manx):
    m = manx(config_text=config(3))
    assert len(rows(m, "SELECT seq FROM seq_1_to_10")) == 3
    assert len(rows(m, "select seq from seq_1_to_10 order by seq desc;")) == 3
    assert len(rows(m, "SELECT seq FROM seq_1_to_10 LIMIT 5")) == 5      # has one already
    assert len(rows(m, "SELECT seq FROM seq_1_to_10 UNION SELECT 11")) == 11  # not a single SELECT
    assert rows(m, "SELECT 1") == ((1,),)                                 # no FROM: untouched
    assert "sql_max_limit: added LIMIT 3" in m.log()


def test_connection_id_is_the_sessions(manx):
    m = manx()
    c1, c2 = m.connect(), m.connect()
    ids = []
    for c in (c1, c2):
        with c.cursor() as cur:
            cur.execute("SELECT CONNECTION_ID()")
            (cid,) = cur.fetchone()
            cur.execute("SELECT CONNECTION_ID()")
            assert cur.fetchone() == (cid,)
            assert int(cid) == c.thread_id()  # what the handshake announced
            ids.append(cid)
    assert ids[0] != ids[1]
    c1.close()
    c2.close()


def test_kill_query_and_connection_by_manx_id(manx):
    """What the mariadb CLI sends on Ctrl-C: KILL QUERY <the session's id>,
    from another connection (possibly on another worker)."""
    import threading
    import time
    import pymysql
    m = manx()
    a = m.connect(read_timeout=30)
    cur = a.cursor()
    cur.execute("SELECT CONNECTION_ID()")
    (aid,) = cur.fetchone()
    res = {}

    def long():
        t0 = time.monotonic()
        try:
            cur.execute("SELECT SLEEP(20)")
            res["r"] = cur.fetchall()
        except pymysql.err.OperationalError as e:
            res["r"] = e.args[0]
        res["t"] = time.monotonic() - t0

    th = threading.Thread(target=long, daemon=True)
    th.start()
    time.sleep(0.5)
    for _ in range(4):  # new connections land on either worker
        b = m.connect()
        b.cursor().execute(f"KILL QUERY {aid}")
        b.close()
    th.join(25)
    assert res.get("r") == 1317, res       # ER_QUERY_INTERRUPTED, from the server
    assert res["t"] < 10
    cur.execute("SELECT 42")                # the session survives KILL QUERY
    assert cur.fetchone() == (42,)
    b = m.connect()
    with pytest.raises(pymysql.err.OperationalError) as ei:
        b.cursor().execute("KILL 4000000000")
    assert ei.value.args[0] == 1094
    b.cursor().execute(f"KILL {aid}")
    b.close()
    time.sleep(0.3)
    with pytest.raises(pymysql.err.OperationalError):
        cur.execute("SELECT 1")
