"""Config generations (issue 10, item 7): SIGHUP loads the file again and
every "Reload: yes" key applies at once, while a client connection opened
before the first reload keeps working through all of them; a bad file
changes nothing and is reported with file:line."""

import re
import signal
import time

import pymysql
import pytest

from conftest import poll, render_config, wait_for, wait_hosts_up

pytestmark = pytest.mark.manx_only

ADMIN = "\n[admin]\nuser = admin\npassword = admin\n"
NEW_USER = "[user newbie]\npassword = nb123\nschemas = aiurt-platform\n"
HOST_R = "[host hostR]\naddress = 127.0.0.1:{p1}\nuser = app\npassword = app123\n\n"


def config(m, users_extra="", balance=0, read_hosts="hostS1", with_r=False, drop_s1=False):
    """The test's config: one writeHost hostM1 (port1) whose readHosts are
    `read_hosts`; hostR, when present, is port1 again under another name."""
    text = render_config(m.pair, m.tmp, m.port, m.admin_port, None,
                         {"write_hosts": "hostM1", "balance": balance,
                          "heartbeat_period": "300ms", "min_con": 1},
                         users_extra + ADMIN)
    text = text.replace("read_hosts = hostS1\n", f"read_hosts = {read_hosts}\n", 1)
    if with_r:
        text += "\n" + HOST_R.format(p1=m.pair.port1)
    if drop_s1:
        text = re.sub(r"\[host hostS1\]\n(?:[^\[\n][^\n]*\n)*", "", text, count=1)
        assert "hostS1" not in text
    return text


def reload(m, text, marker="generation"):
    """Writes the config, sends SIGHUP and waits for the reload's verdict."""
    m.config.write_text(text)
    before = m.log().count("reload: ")
    m.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: m.log().count("reload: ") > before, 10, "the reload's log line")
    return m.log()


def ports_answering(m, user="root", password=None, n=24):
    """Which backend ports answer plain reads, on a fresh connection."""
    c = m.connect(user=user, password=password)
    try:
        seen = set()
        with c.cursor() as cur:
            for _ in range(n):
                cur.execute("SELECT @@port")
                seen.add(cur.fetchone()[0])
        return seen
    finally:
        c.close()


def still_works(keep, m):
    """The connection opened before the reloads runs a read and a write."""
    with keep.cursor() as cur:
        cur.execute("SELECT 1")
        assert cur.fetchone() == (1,)
        cur.execute("SELECT @@port")
        assert cur.fetchone()[0] in (m.pair.port1, m.pair.port2)


def app_connections(pair, port):
    """Connections of manx's backend account `app` on one server, as that
    server sees them."""
    c = pair.connect(port=port)
    try:
        with c.cursor() as cur:
            cur.execute("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = 'app'")
            return cur.fetchone()[0]
    finally:
        c.close()


def datasource_reads(m, name):
    c = pymysql.connect(host="127.0.0.1", port=m.admin_port, user="admin", password="admin",
                        connect_timeout=10, read_timeout=30)
    try:
        with c.cursor() as cur:
            cur.execute("show @@datasource")
            cols = [d[0] for d in cur.description]
            for row in cur.fetchall():
                if row[cols.index("NAME")] == name:
                    return int(row[cols.index("READ_LOAD")])
        return None
    finally:
        c.close()


def test_reload_applies_users_balance_and_hosts(manx):
    m = manx(start=False)
    p1, p2 = m.pair.port1, m.pair.port2
    m.config.write_text(config(m))
    m.start()
    wait_hosts_up(m, ["hostM1", "hostS1"])
    keep = m.connect()
    still_works(keep, m)
    # balance = 0: every read on the writer.
    assert ports_answering(m) == {p1}
    with pytest.raises(pymysql.err.OperationalError):
        m.connect(user="newbie", password="nb123")

    # (a) a user is added: it logs in.
    log = reload(m, config(m, users_extra=NEW_USER))
    assert "generation 2 in use" in log, log[-2000:]
    still_works(keep, m)
    assert ports_answering(m, user="newbie", password="nb123") == {p1}

    # (b) balance 0 -> 1: reads move to the readHost (port2), for new
    # sessions and for the session that was open all along.
    reload(m, config(m, users_extra=NEW_USER, balance=1))
    assert ports_answering(m) == {p2}
    with keep.cursor() as cur:
        seen = set()
        for _ in range(8):
            cur.execute("SELECT @@port")
            seen.add(cur.fetchone()[0])
    assert seen == {p2}, seen

    # (c) a readHost is added (port1 under the name hostR): once its first
    # heartbeat says UP, it gets reads too.
    reload(m, config(m, users_extra=NEW_USER, balance=1, read_hosts="hostS1, hostR", with_r=True))
    wait_hosts_up(m, ["hostR"])
    still_works(keep, m)
    assert poll(lambda: ports_answering(m) == {p1, p2}, 10), "reads did not reach hostR"
    # The console's counters are published every janitor tick (100 ms).
    assert poll(lambda: (datasource_reads(m, "hostR") or 0) > 0, 5), "show @@datasource: no reads on hostR"

    # (d) hostS1 is removed: reads leave it, its pools close (the server
    # sees no connection of manx's account any more) and its heartbeat stops.
    assert app_connections(m.pair, p2) > 0
    reload(m, config(m, users_extra=NEW_USER, balance=1, read_hosts="hostR", with_r=True, drop_s1=True))
    still_works(keep, m)
    assert ports_answering(m) == {p1}
    assert poll(lambda: app_connections(m.pair, p2) == 0, 10), \
        f"{app_connections(m.pair, p2)} connections of app still open on port2"
    assert "heartbeat stops (removed by a reload)" in m.log()
    assert datasource_reads(m, "hostS1") is None
    still_works(keep, m)
    keep.close()


def test_bad_reload_keeps_everything(manx):
    m = manx(start=False)
    p1, p2 = m.pair.port1, m.pair.port2
    good = config(m, balance=1)
    m.config.write_text(good)
    m.start()
    wait_hosts_up(m, ["hostM1", "hostS1"])
    keep = m.connect()
    assert ports_answering(m) == {p2}

    # A syntax error: file:line in the log, nothing changes.
    bad = good.replace("[user test]\n", "[user test]\nthis line is not ini\n", 1)
    line = bad.splitlines().index("this line is not ini") + 1
    log = reload(m, bad.replace("balance = 1", "balance = 0"))
    assert re.search(rf"reload: \S+manx\.ini:{line}: .*the running configuration stays", log), log[-2000:]
    still_works(keep, m)
    assert ports_answering(m) == {p2}

    # A changed listen: refused with file:line, nothing changes (not even
    # the other keys the same file changes).
    moved = re.sub(r"listen = 127\.0\.0\.1:\d+\n", "listen = 127.0.0.1:1\n", good, count=1)
    moved = moved.replace("balance = 1", "balance = 0") + "\n" + NEW_USER
    line = moved.splitlines().index("listen = 127.0.0.1:1") + 1
    log = reload(m, moved)
    assert re.search(rf"reload: \S+manx\.ini:{line}: listen: changed from '127\.0\.0\.1:{m.port}' to "
                     rf"'127\.0\.0\.1:1'; needs a restart \(the running configuration stays\)", log), log[-2000:]
    still_works(keep, m)
    assert ports_answering(m) == {p2}
    with pytest.raises(pymysql.err.OperationalError):
        m.connect(user="newbie", password="nb123")
    keep.close()


def test_removed_user_session_ends_at_next_statement(manx):
    m = manx(start=False)
    m.config.write_text(config(m, users_extra=NEW_USER))
    m.start()
    c = m.connect(user="newbie", password="nb123")
    with c.cursor() as cur:
        cur.execute("SELECT 1")
    reload(m, config(m))
    with pytest.raises(pymysql.err.MySQLError) as e:
        with c.cursor() as cur:
            cur.execute("SELECT 1")
    assert "user removed" in str(e.value) or isinstance(e.value, pymysql.err.OperationalError)
    wait_for(lambda: "user removed from the configuration" in m.log(), 5, "the log line")
    c.close()


def test_kill_own_session_after_a_reload(manx):
    """The session registry knows users by their key, kept by a reload for
    the same name: after a reload a user still KILLs its own sessions (it
    compared pointers into a config the reload frees: 1095, or another
    user's session if the memory came back for another user), and still
    not another user's."""
    m = manx(start=False)
    m.config.write_text(config(m, users_extra=NEW_USER))
    m.start()
    victim, other = m.connect(), m.connect(user="newbie", password="nb123")
    with victim.cursor() as cur:
        cur.execute("SELECT CONNECTION_ID()")
        vid = cur.fetchone()[0]
    killer = m.connect()
    reload(m, config(m, users_extra=NEW_USER, balance=1))
    with killer.cursor() as cur:
        cur.execute("SELECT 1")          # the killer moves to the new generation
        with other.cursor() as ocur:
            ocur.execute("SELECT 1")
            with pytest.raises(pymysql.err.OperationalError) as e:
                ocur.execute(f"KILL {vid}")
            assert e.value.args[0] == 1095
        cur.execute(f"KILL {vid}")
    with pytest.raises(pymysql.err.OperationalError):
        with victim.cursor() as cur:
            cur.execute("SELECT 1")
    for c in (killer, other, victim):
        c.close()
