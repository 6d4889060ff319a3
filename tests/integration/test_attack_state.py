"""Issue 8, no state crossing from one user to another.  With max_con = 1
and workers = 1 every session uses the same pooled backend connection: what
user A leaves in it (a user variable, next-transaction characteristics, an
open HANDLER) must be invisible to user B, who logs in after A quit."""

import pytest

import rawmysql as raw

pytestmark = pytest.mark.manx_only

# `table` before `manx` in the signatures: manx stops first, so the
# table is not dropped while a pooled backend holds a lock on it.
USERS = """
[user userb]
password = 123456
schemas = aiurt-platform
"""


def one_backend(manx):
    return manx(manx_extra={"workers": 1, "pool_wait_timeout": 10000}, max_con=1, min_con=1,
                users_extra=USERS)


def backend_thread(c):
    """The backend thread id serving the session (CONNECTION_ID() alone is
    answered by manx with its own id; inside an expression the backend
    evaluates it)."""
    return c.query1("SELECT CONNECTION_ID() + 0")[0][0]


def user_a_then_b(m, a_statements):
    """User A (root) runs its statements and quits; returns a raw session of
    user B that runs on the same backend connection."""
    with raw.connect(m, "root") as a:
        tid = backend_thread(a)
        for q in a_statements:
            rs = a.query(q)
            assert rs[-1].kind != "err", (q, rs)
        a.command(raw.COM_QUIT)
        assert a.expect_closed(10)
    b = raw.connect(m, "userb")
    assert backend_thread(b) == tid, "user B does not share user A's backend connection"
    return b


def test_user_variable_does_not_cross(manx):
    m = one_backend(manx)
    with user_a_then_b(m, ["SELECT @s := 'secret'"]) as b:
        assert b.query1("SELECT @s") == [(None,)]


def test_read_only_transaction_does_not_cross(backend, table, manx):
    m = one_backend(manx)
    with backend.cursor() as cur:
        cur.execute(f"CREATE TABLE `{table}` (id INT AUTO_INCREMENT PRIMARY KEY, v INT)")
    with user_a_then_b(m, ["SET TRANSACTION READ ONLY"]) as b:
        rs = b.query(f"START TRANSACTION; INSERT INTO `{table}` (v) VALUES (1); COMMIT")
        assert all(r.kind == "ok" for r in rs), rs
    with backend.cursor() as cur:
        cur.execute(f"SELECT COUNT(*) FROM `{table}`")
        assert cur.fetchone() == (1,)


def test_isolation_level_does_not_cross(backend, table, manx):
    m = one_backend(manx)
    with backend.cursor() as cur:
        cur.execute(f"CREATE TABLE `{table}` (id INT PRIMARY KEY)")
        cur.execute(f"INSERT INTO `{table}` VALUES (1)")
    with user_a_then_b(m, ["SET TRANSACTION ISOLATION LEVEL SERIALIZABLE"]) as b:
        rs = b.query(f"START TRANSACTION; SELECT * FROM `{table}` FOR UPDATE")
        assert rs[-1].kind == "rows", rs
        rows = b.query1("SELECT trx_isolation_level FROM information_schema.INNODB_TRX "
                        "WHERE trx_mysql_thread_id = CONNECTION_ID()")
        b.query1("COMMIT")
        assert rows == [(b"REPEATABLE READ",)]


def test_handler_does_not_cross(backend, table, manx):
    m = one_backend(manx)
    with backend.cursor() as cur:
        cur.execute(f"CREATE TABLE `{table}` (id INT PRIMARY KEY)")
        cur.execute(f"INSERT INTO `{table}` VALUES (1)")
    with user_a_then_b(m, [f"HANDLER `{table}` OPEN"]) as b:
        rs = b.query(f"HANDLER `{table}` READ FIRST")
        assert rs[-1].kind == "err", rs
        assert rs[-1].errno == 1109, rs        # ER_UNKNOWN_TABLE: "Unknown table ... in HANDLER"
        assert b.query1("SELECT 1") == [(b"1",)]
