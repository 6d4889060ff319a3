"""Issue 9: a session through manx behaves like a direct session, whichever
pooled backend runs each statement (items 10, 12, 14, 15, 18)."""

import subprocess
import threading

import pytest

pytestmark = pytest.mark.manx_only


def q(c, sql):
    with c.cursor() as cur:
        cur.execute(sql)
        return cur.fetchall()


def test_set_global_reaches_new_sessions(manx, backend):
    """Item 12: after SET GLOBAL through manx, a new session starts with the
    new default, although pooled connections read the old one."""
    m = manx(manx_extra={"workers": 1}, max_con=2, min_con=2)
    old = q(backend, "SELECT @@global.div_precision_increment")[0][0]
    try:
        warm = [m.connect() for _ in range(2)]  # both pooled connections in use once
        for c in warm:
            assert q(c, "SELECT @@div_precision_increment") == ((old,),)
        for c in warm:
            c.close()
        a = m.connect()
        q(a, f"SET GLOBAL div_precision_increment = {old + 3}")
        a.close()
        for _ in range(3):
            b = m.connect()
            assert q(b, "SELECT @@div_precision_increment") == ((old + 3,),)
            b.close()
    finally:
        q(backend, f"SET GLOBAL div_precision_increment = {old}")


def test_use_in_a_multi_statement_moves_the_logical_schema(manx):
    """Item 14: SELECT DATABASE(), answered by manx, follows a USE the
    backend ran."""
    m = manx(users_extra="\n[user both]\npassword = 123456\nschemas = aiurt-platform, other\n")
    c = m.connect(user="both", client_flag=(1 << 16))  # CLIENT_MULTI_STATEMENTS
    try:
        with c.cursor() as cur:
            cur.execute("SELECT 1; USE other_db")
            while cur.nextset():
                pass
        assert q(c, "SELECT DATABASE()") == (("other",),)
        # Answered by the backend, with DATABASE() mapped to the logical name.
        assert q(c, "SELECT DATABASE() AS d, 1") == (("other", 1),)
    finally:
        c.close()


def test_ignore_space_reaches_the_backend(manx):
    """Item 15: `mariadb -i` (CLIENT_IGNORE_SPACE) makes `count (*)` valid."""
    m = manx()
    r = m.cli("SELECT count (*) FROM information_schema.schemata WHERE 0", args=("-i",))
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["count", "(*)", "0"]
    r = m.cli("SELECT count (*) FROM information_schema.schemata WHERE 0")
    assert r.returncode != 0 and ("1630" in r.stderr or "1064" in r.stderr), r.stderr


def test_trigger_changed_variable_is_read_where_it_changed(manx, backend, table):
    """Item 18: SET @sum = 0 then a trigger adds to it: the later read must
    not see the replayed literal on another backend."""
    m = manx(datahost_extra={"balance": 1})
    with backend.cursor() as cur:
        cur.execute(f"CREATE TABLE `{table}` (v INT)")
        cur.execute(f"CREATE TRIGGER `{table}_t` BEFORE INSERT ON `{table}` FOR EACH ROW SET @sum = @sum + NEW.v")
    c = m.connect()
    try:
        q(c, "SET @sum = 0")
        q(c, f"INSERT INTO `{table}` VALUES (5), (7)")
        for _ in range(3):
            assert q(c, "SELECT @sum") == ((12,),)
    finally:
        c.close()


def test_ftwrl_keeps_the_session_on_its_backend(manx, backend, table):
    """Item 10: FLUSH TABLES WITH READ LOCK pins the session, so UNLOCK
    TABLES releases the lock it took and writes are not blocked after."""
    m = manx(manx_extra={"workers": 1}, max_con=3, min_con=0)
    with backend.cursor() as cur:
        cur.execute(f"CREATE TABLE `{table}` (v INT)")
    c = m.connect()
    q(c, "FLUSH TABLES WITH READ LOCK")
    q(c, "SELECT 1")
    q(c, "UNLOCK TABLES")
    c.close()
    w = m.connect(read_timeout=10, write_timeout=10)
    try:
        q(w, "SET SESSION lock_wait_timeout = 5")
        q(w, f"INSERT INTO `{table}` VALUES (1)")
        assert q(w, f"SELECT COUNT(*) FROM `{table}`") == ((1,),)
    finally:
        w.close()

