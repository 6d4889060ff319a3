"""Issue 8, schema isolation: with `strict_schemas = true` in a user's
section, a statement that names a database outside the user's schemas
(a qualifier, USE in any position of a multi-statement, COM_INIT_DB,
SHOW ... FROM) is ERR 1044 from manx, before any backend sees it.  The
user's own schema (logical name) and table aliases stay allowed; a user
without strict_schemas keeps today's behaviour."""

import pytest

import rawmysql as raw
from conftest import DATABASE, wait_databases_listed

pytestmark = pytest.mark.manx_only

USERS = """
[user strict]
password = 123456
schemas = aiurt-platform
strict_schemas = true
"""

REFUSED = [
    "SELECT * FROM other_db.t",
    "SELECT * FROM `other_db`.`t`",
    "SELECT * FROM other_db . t",
    "SELECT * FROM /* c */ other_db.t",
    "SELECT user, password FROM mysql.user",
    "SELECT user FROM `mysql`.`user`",
    "SELECT authentication_string FROM mysql.global_priv",
    "SELECT schema_name FROM information_schema.SCHEMATA",
    "SELECT table_name FROM INFORMATION_SCHEMA.TABLES",
    "SELECT 1 FROM DUAL WHERE EXISTS (SELECT 1 FROM mysql.user)",
    "SELECT 1 UNION SELECT user FROM mysql.user",
    "SHOW TABLES FROM mysql",
    "SHOW TABLES IN other_db",
    "SHOW COLUMNS FROM user FROM mysql",
    "SHOW CREATE TABLE mysql.user",
    "DESCRIBE mysql.user",
    "SELECT 1; USE other_db",
    "SELECT 1; USE mysql",
    "USE other_db; SELECT 1",
    "DO 1; SELECT * FROM mysql.user",
    f"SELECT * FROM `{DATABASE}`.no_such, other_db.t",
]


@pytest.fixture
def strict_table(backend, table):
    with backend.cursor() as cur:
        cur.execute(f"CREATE TABLE `{table}` (a INT)")
        cur.execute(f"INSERT INTO `{table}` VALUES (7)")
    return table


@pytest.mark.parametrize("sql", REFUSED)
def test_strict_user_refused_other_databases(strict_table, manx, sql):
    m = manx(users_extra=USERS)
    with raw.connect(m, "strict") as c:
        rs = c.query(sql)
        assert rs[0].kind == "err" and rs[0].errno == 1044, rs
        # The session's database did not move: its own table is still
        # reachable unqualified.
        assert c.query1(f"SELECT a FROM `{strict_table}`") == [(b"7",)]


@pytest.mark.parametrize("db", ["other_db", "mysql", "information_schema", "other"])
def test_strict_user_init_db_refused(strict_table, manx, db):
    m = manx(users_extra=USERS)
    with raw.connect(m, "strict") as c:
        c.command(raw.COM_INIT_DB, db)
        r = c.read_result()
        assert r.kind == "err" and r.errno == 1044, r
        assert c.query1(f"SELECT a FROM `{strict_table}`") == [(b"7",)]


@pytest.mark.parametrize("sql", [
    "SELECT t.a FROM {t} AS t",
    "SELECT `x`.a FROM {t} `x`",
    "SELECT a FROM `aiurt-platform`.{t}",
    "SELECT `aiurt-platform`.{t}.a FROM `aiurt-platform`.{t}",
    "SELECT 'mysql.user' AS a FROM {t}",
    "SELECT a AS `mysql.user` FROM {t}",
])
def test_strict_user_own_schema_allowed(strict_table, manx, sql):
    m = manx(users_extra=USERS)
    wait_databases_listed(m)  # else an alias may still be a database
    with raw.connect(m, "strict") as c:
        rows = c.query1(sql.format(t=f"`{strict_table}`"))
        assert len(rows) == 1, rows


def test_user_without_strict_keeps_behaviour(manx):
    m = manx(users_extra=USERS)
    with raw.connect(m, "root") as c:
        assert int(c.query1("SELECT COUNT(*) FROM mysql.user")[0][0]) > 0
        assert c.query1("SELECT schema_name FROM information_schema.SCHEMATA "
                        "WHERE schema_name = 'other_db'") == [(b"other_db",)]


@pytest.mark.parametrize("cmd", [raw.COM_CREATE_DB, raw.COM_DROP_DB], ids=["COM_CREATE_DB", "COM_DROP_DB"])
def test_strict_user_create_drop_db_commands_refused(strict_table, manx, backend, cmd):
    """The old COM_CREATE_DB / COM_DROP_DB commands name a database too."""
    m = manx(users_extra=USERS)
    with raw.connect(m, "strict") as c:
        c.command(cmd, "manx_strict_probe")
        r = c.read_result()
        assert r.kind == "err" and r.errno == 1044, r
        assert c.query1(f"SELECT a FROM `{strict_table}`") == [(b"7",)]
    with backend.cursor() as cur:
        cur.execute("SHOW DATABASES LIKE 'manx_strict_probe'")
        assert cur.fetchall() == ()


@pytest.mark.parametrize("sql", ["SHOW DATABASES", "SHOW SCHEMAS LIKE '%'"])
def test_strict_user_prepared_show_databases_refused(manx, sql):
    """A prepared SHOW DATABASES is never answered by manx (only the text
    form is): executed on a backend it would list every database, so a
    strict user's PREPARE is refused like the multi-statement form."""
    import mdb
    m = manx(users_extra=USERS)
    with m.capi(user="strict") as cc:
        with pytest.raises(mdb.Error) as e:
            cc.stmt(sql)
        assert e.value.errno == 1044, e.value
        assert cc.query("SELECT 1") == [(b"1",)]
