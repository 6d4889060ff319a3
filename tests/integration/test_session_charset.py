"""Issue 9, items 1, 2, 4, 5: the character set and collation of a session
follow it to whichever pooled backend runs its statements, and a new
session starts as its own handshake said, whatever the backend's previous
session set.  workers = 1 and max_con = 1 make every session share one
backend connection; balance = 1 sends reads to the other server, so a
statement lands on a backend the SET did not run on."""

import pytest

import mdb

pytestmark = pytest.mark.manx_only

DOLPHIN = "HEX(CONVERT('\U0001F42C' USING utf8mb4))"


def one_backend(manx, **kw):
    return manx(manx_extra={"workers": 1}, max_con=1, min_con=0, **kw)


def q(c, sql):
    with c.cursor() as cur:
        cur.execute(sql)
        return cur.fetchall()


FRESH = {
    "utf8mb4": ("utf8mb4", "utf8mb4", "utf8mb4", "utf8mb4_general_ci"),
    "latin1": ("latin1", "latin1", "latin1", "latin1_swedish_ci"),
}


@pytest.mark.parametrize("left", [
    "SET NAMES latin1",
    "SET NAMES utf8mb4 COLLATE utf8mb4_unicode_ci",
    "SET character_set_results = NULL",
    "SET NAMES gbk",
    "SET character_set_client = latin1, collation_connection = latin1_bin",
])
@pytest.mark.parametrize("handshake", ["utf8mb4", "latin1"])
def test_next_session_starts_from_its_handshake(manx, left, handshake):
    """The server's global character set is utf8mb4 here: resetting the
    previous session's variables to DEFAULT is not what a latin1 client
    asked for in its handshake."""
    m = one_backend(manx)
    a = m.connect(charset="utf8mb4")
    q(a, left)
    a.close()
    b = m.connect(charset=handshake)
    try:
        got = q(b, "SELECT @@character_set_client, @@character_set_connection, "
                   "@@character_set_results, @@collation_connection")[0]
        assert got == FRESH[handshake]
        if handshake == "utf8mb4":
            assert q(b, "SELECT " + DOLPHIN) == (("F09F90AC",),)
    finally:
        b.close()


def test_results_null_is_replayed_as_null(manx):
    m = manx(datahost_extra={"balance": 1})
    c = m.connect(charset="utf8mb4")
    try:
        q(c, "SET character_set_results = NULL")
        for _ in range(4):  # reads go to the other server: replayed there
            assert q(c, "SELECT 1, @@character_set_results") == ((1, None),)
    finally:
        c.close()


def test_set_names_collate_is_carried(manx):
    m = manx(datahost_extra={"balance": 1})
    c = m.connect(charset="utf8mb4")
    try:
        q(c, "SET NAMES utf8mb4 COLLATE utf8mb4_unicode_ci")
        for _ in range(4):
            assert q(c, "SELECT @@collation_connection, 'ß' = 'ss'") == (("utf8mb4_unicode_ci", 1),)
        q(c, "SET NAMES utf8mb4")  # back to the charset's default collation
        for _ in range(4):
            assert q(c, "SELECT @@collation_connection, 'ß' = 'ss'") == (("utf8mb4_general_ci", 0),)
    finally:
        c.close()


def test_prepared_statement_keeps_its_sessions_collation(manx):
    """The backend's statement cache is keyed by collation too: the same
    text prepared by a unicode_ci session and a general_ci session sharing
    one backend gives each its own answer."""
    m = one_backend(manx)
    with m.capi() as a:
        a.query("SET NAMES utf8mb4 COLLATE utf8mb4_unicode_ci")
        with a.stmt("SELECT 'ß' = 'ss'") as st:
            st.execute()
            assert st.fetch_all() == [(b"1",)]
    with m.capi() as b:
        b.query("SET NAMES utf8mb4")
        with b.stmt("SELECT 'ß' = 'ss'") as st:
            st.execute()
            assert st.fetch_all() == [(b"0",)]


def test_prepared_statements_alternate_between_collations(manx):
    """Two sessions of different collations take turns on one backend: each
    EXECUTE is replayed there (SET of the character set, then PREPARE under
    that collation) and answers by its own session's collation."""
    m = one_backend(manx)
    with m.capi() as a, m.capi() as b:
        a.query("SET NAMES utf8mb4")
        b.query("SET NAMES utf8mb4 COLLATE utf8mb4_unicode_ci")
        with a.stmt("SELECT 'ß' = ?") as sa, b.stmt("SELECT 'ß' = ?") as sb:
            for _ in range(4):
                sa.bind(["ss"])
                sa.execute()
                assert sa.fetch_all() == [(b"0",)]
                sb.bind(["ss"])
                sb.execute()
                assert sb.fetch_all() == [(b"1",)]
