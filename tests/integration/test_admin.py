"""The admin console on admin_listen: show @@... over the MySQL protocol,
and switch @@datasource to move writes by hand."""

import time

import pymysql
import pytest

from conftest import poll

pytestmark = pytest.mark.manx_only


def admin(m, password="admin", user="admin"):
    return pymysql.connect(host="127.0.0.1", port=m.admin_port, user=user, password=password,
                           connect_timeout=5, read_timeout=10, autocommit=True)


def rows(c, sql):
    with c.cursor() as cur:
        cur.execute(sql)
        return [d[0] for d in cur.description], cur.fetchall()


def test_console_shows_hosts_and_switches(manx):
    m2 = manx(users_extra="\n[admin]\nuser = admin\npassword = admin\n")
    time.sleep(0.5)  # first heartbeats
    c = admin(m2)
    cols, r = rows(c, "show @@help")
    assert cols == ["STATEMENT", "DESCRIPTION"] and any(x[0] == "show @@datasource" for x in r)
    cols, r = rows(c, "SHOW @@DATASOURCE;")
    # Mycat's columns first, in Mycat's order; manx's after them.
    assert cols[:12] == ["DATANODE", "NAME", "TYPE", "HOST", "PORT", "W/R", "ACTIVE", "IDLE", "SIZE",
                         "EXECUTE", "READ_LOAD", "WRITE_LOAD"]
    by = {x[1]: dict(zip(cols, x)) for x in r}
    assert set(by) == {"hostM1", "hostS1", "hostM2", "hostS2"}
    assert by["hostM1"]["ROLE"] == "W (active)" and by["hostM2"]["ROLE"] == "W (standby)"
    assert by["hostM1"]["W/R"] == "W" and by["hostS1"]["W/R"] == "R"
    assert all(x["STATUS"] == "UP" for x in by.values()), r
    cols, r = rows(c, "show @@heartbeat")
    assert cols[:11] == ["NAME", "TYPE", "HOST", "PORT", "RS_CODE", "RETRY", "STATUS", "TIMEOUT",
                         "EXECUTE_TIME", "LAST_ACTIVE_TIME", "STOP"]
    assert all(x[4] == 1 or x[4] == "1" for x in r) and all(x[6].startswith("UP") for x in r), r
    cols, r = rows(c, "show @@datahost")
    assert r[0][0] == "localhost1" and r[0][5] == "hostM1"

    # Move writes by hand: persisted like an automatic switch.
    with c.cursor() as cur:
        cur.execute("switch @@datasource localhost1:1")
    time.sleep(0.3)
    assert rows(c, "show @@datahost")[1][0][5] == "hostM2"
    assert "localhost1=1" in (m2.tmp / "state" / "dnindex.properties").read_text()
    cl = m2.connect()
    with cl.cursor() as cur:
        cur.execute("SELECT @@server_id")
        assert cur.fetchone() == (89,)
    cl.close()
    for bad in ("switch @@datasource localhost1:7", "switch @@datasource nosuch:0", "bogus",
                "show @@datasource " + "x" * 600):
        with pytest.raises(pymysql.err.MySQLError):
            rows(c, bad)
    c.close()
    with pytest.raises(pymysql.err.OperationalError) as ei:
        admin(m2, password="wrong")
    assert ei.value.args[0] == 1045
    # Application users are not console users.
    with pytest.raises(pymysql.err.OperationalError):
        admin(m2, user="root", password="123456")


def test_console_without_password_refuses_everyone(manx):
    m = manx()  # no [admin] section: empty password
    with pytest.raises(pymysql.err.OperationalError) as ei:
        admin(m, password="")
    assert ei.value.args[0] == 1045


def test_switch_keeps_the_datahost_name_case(manx, pair, tmp_path):
    """A dataHost named DH_Main is switchable: only the keywords of a console
    statement are case-insensitive, never the names in it (issue 8)."""
    from conftest import render_config
    text = render_config(pair, "{tmp}", "{port}", "{admin_port}",
                         users_extra="\n[admin]\nuser = admin\npassword = admin\n")
    m = manx(config_text=text.replace("localhost1", "DH_Main"))
    c = admin(m)
    _, r = rows(c, "SHOW @@DataSource DH_Main")
    assert {x[1] for x in r} == {"hostM1", "hostS1", "hostM2", "hostS2"}, r
    assert rows(c, "show @@datasource dh_main")[1] == ()
    with c.cursor() as cur:
        cur.execute("SWITCH @@DATASOURCE DH_Main:1")
    assert poll(lambda: rows(c, "show @@datahost")[1][0][5] == "hostM2", 5)
    f = m.tmp / "state" / "dnindex.properties"
    assert poll(lambda: f.exists() and "DH_Main=1" in f.read_text(), 5)
    # Another spelling is another (unknown) dataHost.
    with pytest.raises(pymysql.err.MySQLError) as ei:
        rows(c, "switch @@datasource dh_main:0")
    assert "unknown dataHost 'dh_main'" in str(ei.value)
    c.close()


@pytest.mark.parametrize("arg", ["localhost1:", "localhost1:1x", "localhost1:-0", "localhost1: 1",
                                 "localhost1:99999999999"])
def test_switch_refuses_a_malformed_index(manx, arg):
    """`switch @@datasource localhost1:` used to switch to index 0 (atoi)."""
    m = manx(users_extra="\n[admin]\nuser = admin\npassword = admin\n",
             manx_extra={"log_level": "info"})
    c = admin(m)
    with c.cursor() as cur:
        cur.execute("switch @@datasource localhost1:1")
    assert poll(lambda: rows(c, "show @@datahost")[1][0][4] == "1", 5)
    with pytest.raises(pymysql.err.MySQLError) as ei, c.cursor() as cur:
        cur.execute(f"switch @@datasource {arg}")
    assert "usage" in str(ei.value) or "indexes 0..1" in str(ei.value), ei.value
    time.sleep(0.3)
    assert rows(c, "show @@datahost")[1][0][4] == "1"
    c.close()


def test_show_database_lists_the_logical_schemas(manx):
    m = manx(users_extra="\n[admin]\nuser = admin\npassword = admin\n")
    c = admin(m)
    cols, r = rows(c, "SHOW @@DATABASE")
    assert cols == ["DATABASE"] and r == (("aiurt-platform",), ("other",)), (cols, r)
    c.close()


def test_heartbeat_lists_the_writers_databases(manx, backend):
    """strict_schemas needs the databases that exist on the backends: the
    heartbeat lists them on the active writeHost at its first good beat and
    every 10 beats, and logs the list when it changes."""
    import re
    m = manx(datahost_extra={"heartbeat_period": "200ms"})
    line = re.compile(r"host (\w+) 127\.0\.0\.1:\d+: (\d+) databases: (.*)")

    def lists():
        return [x.groups() for x in line.finditer(m.log())]

    assert poll(lambda: lists(), 5), m.log()[-2000:]
    host, n, names = lists()[-1]
    assert host == "hostM1", lists()           # the active writeHost only
    assert {"aiurt_platform", "other_db", "mysql"} <= set(names.split(", ")), names
    assert int(n) == len(names.split(", "))
    name = "hf_NewDb_%d" % m.port
    with backend.cursor() as cur:
        cur.execute(f"CREATE DATABASE `{name}`")
    try:
        # 10 beats of 200 ms, and the beat that sees it.
        assert poll(lambda: name in lists()[-1][2].split(", "), 5), lists()
    finally:
        with backend.cursor() as cur:
            cur.execute(f"DROP DATABASE `{name}`")
    assert poll(lambda: name not in lists()[-1][2].split(", "), 5), lists()
    assert {h for h, _, _ in lists()} == {"hostM1"}, lists()

