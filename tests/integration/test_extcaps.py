"""Issue 9 item 8: MariaDB's extended capabilities through manx.

manx offers MARIADB_CLIENT_STMT_BULK_OPERATIONS and
MARIADB_CLIENT_EXTENDED_TYPE_INFO (never CACHE_METADATA or PROGRESS) once
its backends offered them.  A raw client (rawmysql.Conn with a login that
asks for them) checks what reaches the backend and what comes back:

- a COM_STMT_BULK_EXECUTE of N rows runs on the writer as one bulk command:
  the writer's Com_stmt_execute grows by 1, not N (the server counts a bulk
  execute once), and the rows are there;
- garbled, unknown or not negotiated bulk packets and a readonly user's get
  an ERR and the session goes on;
- a JSON column's definition carries the extended type-info block ("json")
  (format "json") to a client that negotiated EXTENDED_TYPE_INFO and the classic layout to
  one that did not, whichever pooled backend served the other before
  (max_con = 2), for text results, prepared-statement metadata and manx's
  own result sets."""

import struct

import pytest

import rawmysql
from rawmysql import lenenc_int, lenenc_str, native_scramble, parse_err, parse_ok

pytestmark = pytest.mark.manx_only

MARIADB_PROGRESS = 1 << 0          # the upper 32 capability bits, as on the wire
MARIADB_STMT_BULK_OPS = 1 << 2
MARIADB_EXTENDED_TYPE_INFO = 1 << 3
MARIADB_CACHE_METADATA = 1 << 4
COM_STMT_BULK_EXECUTE = 0xFA
BULK_SEND_TYPES = 0x80
BULK_SEND_UNIT_RESULTS = 0x40
TYPE_LONG, TYPE_VAR_STRING = 0x03, 0xFD


def greeting_caps(g):
    """(capabilities, extended capabilities) of a greeting payload."""
    pos = g.index(b"\0", 1) + 1 + 4 + 8 + 1
    caps = struct.unpack_from("<H", g, pos)[0]
    caps |= struct.unpack_from("<H", g, pos + 5)[0] << 16
    ext = 0 if caps & rawmysql.CLIENT_LONG_PASSWORD else struct.unpack_from("<I", g, pos + 14)[0]
    return caps, ext


class ExtConn(rawmysql.Conn):
    """A raw connection that asks for MariaDB extended capabilities `ext`
    (those the greeting offered), clearing CLIENT_MYSQL as libmariadb does."""

    def __init__(self, m, ext, user="root", db=None):
        self.want_ext = ext
        self.ext = 0
        u, p = m.creds(user)
        super().__init__(m.host, m.port, u, p, m.db if db is None else db)

    def login(self, user, password, db, multi_statements, charset):
        g = self.read_packet()
        if g[:1] == b"\xff":
            e = parse_err(g)
            raise rawmysql.ServerError(e.errno, e.sqlstate, e.message)
        self.greeting = g
        caps, offered = greeting_caps(g)
        pos = g.index(b"\0", 1) + 1
        salt = g[pos + 4:pos + 12] + g[pos + 4 + 8 + 1 + 2 + 1 + 2 + 2 + 1 + 10:][:12]
        self.ext = self.want_ext & offered
        flags = (rawmysql.CLIENT_FOUND_ROWS | rawmysql.CLIENT_LONG_FLAG | rawmysql.CLIENT_PROTOCOL_41 |
                 rawmysql.CLIENT_TRANSACTIONS | rawmysql.CLIENT_SECURE_CONNECTION |
                 rawmysql.CLIENT_MULTI_RESULTS | rawmysql.CLIENT_PS_MULTI_RESULTS |
                 rawmysql.CLIENT_PLUGIN_AUTH | rawmysql.CLIENT_CONNECT_WITH_DB)
        if not self.ext:
            flags |= rawmysql.CLIENT_LONG_PASSWORD
        auth = native_scramble(password, salt)
        p = struct.pack("<IIB19xI", flags, 16 * 1024 * 1024, charset, self.ext)
        p += user.encode() + b"\0" + bytes([len(auth)]) + auth + db.encode() + b"\0"
        p += b"mysql_native_password\0"
        self.send_packet(p)
        r = self.read_packet()
        if r[:1] == b"\xff":
            e = parse_err(r)
            raise rawmysql.ServerError(e.errno, e.sqlstate, e.message)
        assert r[:1] == b"\x00", r[:16]

    def coldefs(self, sql):
        """COM_QUERY of a statement with a result set: its raw column
        definitions (the rows are read and dropped)."""
        self.command(rawmysql.COM_QUERY, sql)
        p = self.read_packet()
        if p[:1] == b"\xff":
            e = parse_err(p)
            raise rawmysql.ServerError(e.errno, e.sqlstate, e.message)
        n, _ = lenenc_int(p, 0)
        defs = [self.read_packet() for _ in range(n)]
        assert self.read_packet()[:1] == b"\xfe"
        while True:
            r = self.read_packet()
            if r[:1] == b"\xfe" and len(r) < 9:
                return defs
            assert r[:1] != b"\xff", parse_err(r)

    def prepare_coldefs(self, sql):
        """COM_STMT_PREPARE: (statement id, raw column definitions)."""
        self.command(rawmysql.COM_STMT_PREPARE, sql)
        p = self.read_packet()
        assert p[:1] == b"\x00", parse_err(p) if p[:1] == b"\xff" else p[:16]
        stmt_id, n_cols, n_params = struct.unpack_from("<IHH", p, 1)
        for _ in range(n_params):
            self.read_packet()
        if n_params:
            self.read_packet()
        defs = [self.read_packet() for _ in range(n_cols)]
        if n_cols:
            self.read_packet()
        return stmt_id, defs

    def bulk(self, stmt_id, rows, flags=BULK_SEND_TYPES, raw=None):
        """COM_STMT_BULK_EXECUTE of (int, str) rows; OK or ERR Result."""
        if raw is None:
            raw = struct.pack("<IH", stmt_id, flags)
            if flags & BULK_SEND_TYPES:
                raw += bytes([TYPE_LONG, 0, TYPE_VAR_STRING, 0])
            for i, v in rows:
                v = v.encode()
                raw += b"\x00" + struct.pack("<i", i) + b"\x00" + bytes([len(v)]) + v
        self.command(COM_STMT_BULK_EXECUTE, raw)
        p = self.read_packet()
        return parse_err(p) if p[:1] == b"\xff" else parse_ok(p)


def parse_coldef(d, ext):
    """(name, type, {key: value} of the extended type info) of a column definition read
    as a client that negotiated (ext) or not the extended type info; asserts
    the fixed part sits exactly where that format puts it."""
    pos = 0
    fields = []
    for _ in range(6):
        s, pos = lenenc_str(d, pos)
        fields.append(s)
    info = {}
    if ext:
        block, pos = lenenc_str(d, pos)
        b = 0
        while b < len(block):
            key = block[b]
            val, b = lenenc_str(block, b + 1)
            info[key] = val.decode()
    assert d[pos] == 0x0C and len(d) - pos - 1 == 12, f"misplaced fixed part in {d!r} (ext={ext})"
    return fields[4].decode(), d[pos + 1 + 6], info


def com_stmt_execute(backend):
    with backend.cursor() as cur:
        cur.execute("SHOW GLOBAL STATUS LIKE 'Com_stmt_execute'")
        return int(cur.fetchone()[1])


@pytest.fixture
def m(manx):
    """manx with max_con = 2: clients of both formats share two backends.
    A first query makes manx meet a backend (it learns their capabilities
    from their greetings)."""
    mx = manx(max_con=2, min_con=0)
    c = mx.connect()
    try:
        with c.cursor() as cur:
            cur.execute("SELECT 1")
    finally:
        c.close()
    return mx


def test_greeting_offers_bulk_and_type_info_only(m, pair):
    with rawmysql.Conn(pair.host, pair.port1, login=False) as direct:
        direct.greeting = direct.read_packet()
        _, server_ext = greeting_caps(direct.greeting)
    assert server_ext & (MARIADB_STMT_BULK_OPS | MARIADB_EXTENDED_TYPE_INFO) == \
        MARIADB_STMT_BULK_OPS | MARIADB_EXTENDED_TYPE_INFO, "the pair's MariaDB is too old for this test"
    with rawmysql.Conn(m.host, m.port, login=False) as c:
        caps, ext = greeting_caps(c.read_packet())
    assert not caps & rawmysql.CLIENT_LONG_PASSWORD
    # Not CACHE_METADATA (a pooled backend cannot know what a client cached)
    # nor PROGRESS, whatever the server offers.
    assert ext == MARIADB_STMT_BULK_OPS | MARIADB_EXTENDED_TYPE_INFO


def test_bulk_execute_reaches_backend_as_bulk(m, backend, table):
    with backend.cursor() as cur:
        cur.execute(f"CREATE TABLE `{table}` (id INT PRIMARY KEY, v VARCHAR(20))")
    with ExtConn(m, MARIADB_STMT_BULK_OPS) as c:
        assert c.ext == MARIADB_STMT_BULK_OPS
        st = c.prepare(f"INSERT INTO `{table}` VALUES (?, ?)")
        assert st.kind == "prepare", st
        before = com_stmt_execute(backend)
        r = c.bulk(st.stmt_id, [(i, "v%d" % i) for i in range(1, 51)])
        after = com_stmt_execute(backend)
        assert r.kind == "ok" and r.affected == 50, r
        # One command on the writer for 50 rows: a per-row fallback would
        # count 50.
        assert after - before == 1
        # The session goes on: an execute of the same statement after it.
        r = c.execute(st.stmt_id, ("51", "v51"))
        assert r.kind == "ok" and r.affected == 1, r
    with backend.cursor() as cur:
        cur.execute(f"SELECT COUNT(*), SUM(id), MAX(v) FROM `{table}`")
        assert cur.fetchone() == (51, 51 * 52 // 2, "v9")


def test_bulk_refusals(m, backend, table):
    with backend.cursor() as cur:
        cur.execute(f"CREATE TABLE `{table}` (id INT PRIMARY KEY, v VARCHAR(20))")
    with ExtConn(m, MARIADB_STMT_BULK_OPS) as c:
        st = c.prepare(f"INSERT INTO `{table}` VALUES (?, ?)")
        # Shorter than its header, a flag manx did not negotiate, flags
        # nobody defined, a statement nobody prepared: ERR, never a crash.
        for raw, errno in ((struct.pack("<I", st.stmt_id), 1835),
                           (None, 1835), (struct.pack("<IH", st.stmt_id, 0x0101), 1835),
                           (struct.pack("<IH", 999, BULK_SEND_TYPES), 1243)):
            if raw is None:
                r = c.bulk(st.stmt_id, [(1, "x")], flags=BULK_SEND_TYPES | BULK_SEND_UNIT_RESULTS)
            else:
                r = c.bulk(st.stmt_id, [], raw=raw)
            assert r.kind == "err" and r.errno == errno, r
        assert c.ping().kind == "ok"
        assert c.bulk(st.stmt_id, [(7, "seven")]).kind == "ok"
    # A client that did not negotiate bulk: unknown command, as the server says.
    with ExtConn(m, 0) as c:
        st = c.prepare(f"INSERT INTO `{table}` VALUES (?, ?)")
        r = c.bulk(st.stmt_id, [(8, "eight")])
        assert r.kind == "err" and r.errno == 1047, r
        assert c.ping().kind == "ok"
    # A readonly user: refused before any backend sees it.
    with ExtConn(m, MARIADB_STMT_BULK_OPS, user="test") as c:
        st = c.prepare(f"SELECT * FROM `{table}` WHERE id = ?")
        assert st.kind == "prepare", st
        r = c.bulk(st.stmt_id, [(9, "nine")])
        assert r.kind == "err" and r.errno == 1290, r
        assert c.ping().kind == "ok"
    with backend.cursor() as cur:
        cur.execute(f"SELECT id FROM `{table}`")
        assert cur.fetchall() == ((7,),)


def test_extended_metadata_only_to_clients_that_asked(m, backend, table):
    with backend.cursor() as cur:
        cur.execute(f"CREATE TABLE `{table}` (id INT PRIMARY KEY, j JSON)")
        cur.execute(f"INSERT INTO `{table}` VALUES (1, '{{\"a\": 1}}')")
    sql = f"SELECT id, j FROM `{table}`"
    # Alternate the two kinds, one after the other and side by side, so
    # that each finds a backend the other used if flavours were mixed.
    for _ in range(3):
        ext = ExtConn(m, MARIADB_EXTENDED_TYPE_INFO)
        plain = ExtConn(m, 0)
        try:
            assert ext.ext == MARIADB_EXTENDED_TYPE_INFO and plain.ext == 0
            for c in (ext, plain, ext, plain):
                raw = c.coldefs(sql)
                defs = [parse_coldef(d, c.ext != 0) for d in raw]
                # manx rewrote the schema field to the logical name in both
                # formats (protocol/schemamap.c).
                assert {lenenc_str(d, 4)[0] for d in raw} == {m.db.encode()}
                assert [(n, t) for n, t, _ in defs] == [("id", 0x03), ("j", 0xFC)]
                # MariaDB describes JSON by its format (key 1); the id column
                # has nothing to add.
                assert [info for _, _, info in defs] == ([{}, {1: "json"}] if c.ext else [{}, {}])
                # Prepared-statement metadata: the same format.
                _, pdefs = c.prepare_coldefs(sql)
                assert [parse_coldef(d, c.ext != 0)[2] for d in pdefs] == ([{}, {1: "json"}] if c.ext else [{}, {}])
                # manx's own result set (SHOW DATABASES is answered by manx).
                for d in c.coldefs("SHOW DATABASES"):
                    assert parse_coldef(d, c.ext != 0)[0] == "Database"
        finally:
            ext.close()
            plain.close()
