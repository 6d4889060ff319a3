"""The admin console on admin_listen: show @@... over the MySQL protocol,
and switch @@datasource to move writes by hand."""

import time

import pymysql
import pytest

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
    assert cols[:5] == ["NAME", "DATAHOST", "ADDRESS", "TYPE", "STATUS"]
    by = {x[0]: x for x in r}
    assert set(by) == {"hostM1", "hostS1", "hostM2", "hostS2"}
    assert by["hostM1"][3] == "W (active)" and by["hostM2"][3] == "W (standby)"
    assert all(x[4] == "UP" for x in r), r
    cols, r = rows(c, "show @@heartbeat")
    assert "RTT_MS" in cols and all(x[2].startswith("UP") for x in r), r
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
    for bad in ("switch @@datasource localhost1:7", "switch @@datasource nosuch:0", "bogus"):
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
