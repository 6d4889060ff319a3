"""The test bed itself: scripts/pair.sh gives two masters replicating each
other with odd/even auto-increment, as the production setup does."""

import time


def _wait_for(fn, timeout=15):
    deadline = time.monotonic() + timeout
    while True:
        v = fn()
        if v or time.monotonic() > deadline:
            return v
        time.sleep(0.1)


def test_pair_status(pair):
    r = pair.sh("status", timeout=30)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.count("replication(io sql): Yes Yes") == 2, r.stdout


def test_server_ids_and_offsets(pair):
    got = []
    for port in (pair.port1, pair.port2):
        with pair.connect(port=port) as c, c.cursor() as cur:
            cur.execute("select @@server_id, @@auto_increment_increment, @@auto_increment_offset, "
                        "@@log_bin, @@binlog_format, @@max_allowed_packet")
            got.append(cur.fetchone())
    assert got == [(88, 2, 1, 1, "ROW", 256 << 20), (89, 2, 2, 1, "ROW", 256 << 20)]


def test_replication_both_ways(pair, table):
    a = pair.connect(port=pair.port1)
    b = pair.connect(port=pair.port2)
    try:
        with a.cursor() as ca, b.cursor() as cb:
            ca.execute(f"create table `{table}` (id int auto_increment primary key, src int)")

            def rows_on(cur, n):
                cur.execute(f"select count(*) from information_schema.tables "
                            f"where table_schema = 'aiurt_platform' and table_name = '{table}'")
                if cur.fetchone()[0] == 0:
                    return False
                cur.execute(f"select count(*) from `{table}`")
                return cur.fetchone()[0] == n

            assert _wait_for(lambda: rows_on(cb, 0))
            ca.execute(f"insert into `{table}` (src) values (1), (1)")
            cb.execute(f"insert into `{table}` (src) values (2), (2)")
            assert _wait_for(lambda: rows_on(ca, 4))
            assert _wait_for(lambda: rows_on(cb, 4))
            ca.execute(f"select src, id % 2 from `{table}` order by id")
            # hostM1 generates odd ids, hostM2 even ones.
            assert sorted(ca.fetchall()) == [(1, 1), (1, 1), (2, 0), (2, 0)]
    finally:
        a.close()
        b.close()


def test_accounts(pair):
    import pymysql
    for port in (pair.port1, pair.port2):
        c = pymysql.connect(host=pair.host, port=port, user="app", password="app123",
                            database="aiurt_platform", connect_timeout=10)
        with c, c.cursor() as cur:
            cur.execute("select current_user(), database()")
            assert cur.fetchone() == ("app@127.0.0.1", "aiurt_platform")
