"""A small raw-protocol MySQL client for the attack tests: what pymysql and
libmariadb will not send (a COM_PING with 16 MB of payload, half a packet,
any command byte, bytes that are not valid in the connection's charset).

It speaks just enough of the protocol: the handshake with
mysql_native_password (and an auth switch to it), packets of any size (split
at 0xFFFFFF as the protocol requires), and responses read back as OK, ERR,
EOF, result sets (text protocol) and COM_STMT_PREPARE_OK.  Every read has a
deadline: a peer that says nothing makes a test fail with a timeout, never
hang.  Use it as a context manager so the socket is always closed."""

import hashlib
import socket
import struct
import time

# Client capability flags (include/mysql_com.h).
CLIENT_LONG_PASSWORD = 1
CLIENT_FOUND_ROWS = 2
CLIENT_LONG_FLAG = 4
CLIENT_CONNECT_WITH_DB = 8
CLIENT_LOCAL_FILES = 128
CLIENT_PROTOCOL_41 = 512
CLIENT_TRANSACTIONS = 8192
CLIENT_SECURE_CONNECTION = 32768
CLIENT_MULTI_STATEMENTS = 1 << 16
CLIENT_MULTI_RESULTS = 1 << 17
CLIENT_PS_MULTI_RESULTS = 1 << 18
CLIENT_PLUGIN_AUTH = 1 << 19

SERVER_MORE_RESULTS_EXISTS = 8

# Command bytes.
COM_SLEEP, COM_QUIT, COM_INIT_DB, COM_QUERY, COM_FIELD_LIST = 0x00, 0x01, 0x02, 0x03, 0x04
COM_CREATE_DB, COM_DROP_DB, COM_REFRESH, COM_SHUTDOWN, COM_STATISTICS = 0x05, 0x06, 0x07, 0x08, 0x09
COM_PROCESS_INFO, COM_CONNECT, COM_PROCESS_KILL, COM_DEBUG, COM_PING = 0x0A, 0x0B, 0x0C, 0x0D, 0x0E
COM_TIME, COM_DELAYED_INSERT, COM_CHANGE_USER, COM_BINLOG_DUMP = 0x0F, 0x10, 0x11, 0x12
COM_TABLE_DUMP, COM_CONNECT_OUT, COM_REGISTER_SLAVE = 0x13, 0x14, 0x15
COM_STMT_PREPARE, COM_STMT_EXECUTE, COM_STMT_SEND_LONG_DATA = 0x16, 0x17, 0x18
COM_STMT_CLOSE, COM_STMT_RESET, COM_SET_OPTION, COM_STMT_FETCH = 0x19, 0x1A, 0x1B, 0x1C
COM_DAEMON, COM_BINLOG_DUMP_GTID, COM_RESET_CONNECTION = 0x1D, 0x1E, 0x1F

PKT_MAX = 0xFFFFFF


class ProtocolError(Exception):
    """The peer sent something this client cannot read, or closed."""


class Closed(ProtocolError):
    """The peer closed the connection."""


class ServerError(Exception):
    """An ERR packet where the caller wanted success."""

    def __init__(self, errno, sqlstate, message):
        super().__init__(f"ERR {errno} ({sqlstate}): {message}")
        self.errno, self.sqlstate, self.message = errno, sqlstate, message


class Result:
    """One response: kind is 'ok', 'err', 'eof', 'rows' or 'prepare'."""

    def __init__(self, kind, **kw):
        self.kind = kind
        self.errno = kw.get("errno")
        self.sqlstate = kw.get("sqlstate")
        self.message = kw.get("message", "")
        self.affected = kw.get("affected", 0)
        self.status = kw.get("status", 0)
        self.columns = kw.get("columns", [])
        self.rows = kw.get("rows", [])
        self.stmt_id = kw.get("stmt_id")
        self.n_params = kw.get("n_params", 0)
        self.n_cols = kw.get("n_cols", 0)

    @property
    def more(self):
        return bool(self.status & SERVER_MORE_RESULTS_EXISTS)

    def __repr__(self):
        if self.kind == "err":
            return f"<ERR {self.errno} {self.sqlstate} {self.message!r}>"
        if self.kind == "rows":
            return f"<rows {self.rows[:3]!r}{'...' if len(self.rows) > 3 else ''}>"
        if self.kind == "prepare":
            return f"<prepare id={self.stmt_id} params={self.n_params} cols={self.n_cols}>"
        return f"<{self.kind} affected={self.affected} status={self.status:#x}>"


def lenenc_int(b, pos):
    """(value, new pos) of the length-encoded integer at b[pos]."""
    c = b[pos]
    if c < 0xFB:
        return c, pos + 1
    if c == 0xFB:
        return None, pos + 1
    if c == 0xFC:
        return struct.unpack_from("<H", b, pos + 1)[0], pos + 3
    if c == 0xFD:
        return int.from_bytes(b[pos + 1:pos + 4], "little"), pos + 4
    return struct.unpack_from("<Q", b, pos + 1)[0], pos + 9


def lenenc_str(b, pos):
    n, pos = lenenc_int(b, pos)
    if n is None:
        return None, pos
    return bytes(b[pos:pos + n]), pos + n


def native_scramble(password, salt):
    """mysql_native_password: SHA1(pw) XOR SHA1(salt + SHA1(SHA1(pw)))."""
    if not password:
        return b""
    pw = password.encode() if isinstance(password, str) else password
    h1 = hashlib.sha1(pw).digest()
    h2 = hashlib.sha1(h1).digest()
    h3 = hashlib.sha1(salt + h2).digest()
    return bytes(a ^ b for a, b in zip(h1, h3))


def parse_err(p):
    errno = struct.unpack_from("<H", p, 1)[0]
    if len(p) > 3 and p[3:4] == b"#":
        return Result("err", errno=errno, sqlstate=p[4:9].decode("latin1"),
                      message=p[9:].decode("utf-8", "replace"))
    return Result("err", errno=errno, sqlstate="", message=p[3:].decode("utf-8", "replace"))


def parse_ok(p):
    affected, pos = lenenc_int(p, 1)
    _insert_id, pos = lenenc_int(p, pos)
    status = struct.unpack_from("<H", p, pos)[0] if len(p) >= pos + 2 else 0
    return Result("ok", affected=affected, status=status)


class Conn:
    """One raw connection.  Raw(host, port, user, password, db) logs in;
    with login=False only the greeting is read (self.greeting)."""

    def __init__(self, host, port, user=None, password="", db=None, timeout=10.0,
                 login=True, multi_statements=True, charset=45):
        self.timeout = timeout
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()
        self.seq = 0
        self.greeting = None
        self.thread_id = None
        try:
            if login:
                self.login(user, password, db, multi_statements, charset)
        except BaseException:
            self.close()
            raise

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        if self.sock is not None:
            try:
                self.sock.close()
            finally:
                self.sock = None

    # --- packets -------------------------------------------------------

    def _recv_exact(self, n, deadline):
        while len(self.buf) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise socket.timeout(f"no complete packet within {self.timeout}s "
                                     f"({len(self.buf)} of {n} bytes)")
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(max(65536, n - len(self.buf)))
            except ConnectionResetError as e:
                raise Closed(f"connection reset: {e}") from e
            if not chunk:
                raise Closed("peer closed the connection")
            self.buf += chunk
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    def read_packet(self, timeout=None):
        """The next logical packet's payload (0xFFFFFF pieces joined)."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        payload = b""
        while True:
            h = self._recv_exact(4, deadline)
            n = int.from_bytes(h[:3], "little")
            self.seq = (h[3] + 1) & 0xFF
            payload += self._recv_exact(n, deadline)
            if n < PKT_MAX:
                return payload

    def send_packet(self, payload, seq=None):
        """Sends one logical packet, split into 0xFFFFFF pieces (and the
        empty piece after an exact multiple)."""
        if seq is not None:
            self.seq = seq
        out = []
        pos = 0
        while True:
            piece = payload[pos:pos + PKT_MAX]
            out.append(len(piece).to_bytes(3, "little") + bytes([self.seq]) + piece)
            self.seq = (self.seq + 1) & 0xFF
            pos += len(piece)
            if len(piece) < PKT_MAX:
                break
        self.sock.sendall(b"".join(out))

    def send_raw(self, data):
        """Bytes exactly as given (headers and all)."""
        self.sock.sendall(data)

    def command(self, cmd, arg=b""):
        """Sends command byte + argument as a new command (sequence 0)."""
        if isinstance(arg, str):
            arg = arg.encode()
        self.send_packet(bytes([cmd]) + arg, seq=0)

    # --- login ---------------------------------------------------------

    def login(self, user, password, db, multi_statements, charset):
        g = self.read_packet()
        if g[:1] == b"\xff":
            r = parse_err(g)
            raise ServerError(r.errno, r.sqlstate, r.message)
        self.greeting = g
        pos = g.index(b"\0", 1) + 1
        self.thread_id = struct.unpack_from("<I", g, pos)[0]
        salt = g[pos + 4:pos + 12]
        pos += 13
        caps = struct.unpack_from("<H", g, pos)[0]
        pos += 2
        if len(g) > pos:
            pos += 3                                     # charset, status
            caps |= struct.unpack_from("<H", g, pos)[0] << 16
            pos += 2
            salt_len = g[pos]
            pos += 11
            rest = max(13, salt_len - 8)
            salt += g[pos:pos + rest - 1]
        flags = (CLIENT_LONG_PASSWORD | CLIENT_FOUND_ROWS | CLIENT_LONG_FLAG | CLIENT_LOCAL_FILES |
                 CLIENT_PROTOCOL_41 | CLIENT_TRANSACTIONS | CLIENT_SECURE_CONNECTION |
                 CLIENT_MULTI_RESULTS | CLIENT_PS_MULTI_RESULTS | CLIENT_PLUGIN_AUTH)
        if multi_statements:
            flags |= CLIENT_MULTI_STATEMENTS
        if db:
            flags |= CLIENT_CONNECT_WITH_DB
        auth = native_scramble(password, salt[:20])
        p = struct.pack("<IIB23x", flags, 16 * 1024 * 1024, charset)
        p += user.encode() + b"\0" + bytes([len(auth)]) + auth
        if db:
            p += db.encode() + b"\0"
        p += b"mysql_native_password\0"
        self.send_packet(p)
        r = self.read_packet()
        if r[:1] == b"\xfe":
            # Auth switch request: plugin name, then the new salt.
            end = r.index(b"\0", 1)
            plugin = r[1:end].decode()
            if plugin != "mysql_native_password":
                raise ProtocolError(f"auth switch to {plugin} not supported")
            nsalt = r[end + 1:end + 21]
            self.send_packet(native_scramble(password, nsalt))
            r = self.read_packet()
        if r[:1] == b"\xff":
            e = parse_err(r)
            raise ServerError(e.errno, e.sqlstate, e.message)
        if r[:1] != b"\x00":
            raise ProtocolError(f"unexpected login answer {r[:16]!r}")

    # --- responses -----------------------------------------------------

    def read_result(self, timeout=None):
        """One response to a command: OK, ERR, EOF, or a whole text result
        set (rows as tuples of bytes/None)."""
        p = self.read_packet(timeout)
        first = p[:1]
        if first == b"\x00":
            return parse_ok(p)
        if first == b"\xff":
            return parse_err(p)
        if first == b"\xfe" and len(p) < 9:
            status = struct.unpack_from("<H", p, 3)[0] if len(p) >= 5 else 0
            return Result("eof", status=status)
        if first == b"\xfb":
            # LOCAL INFILE request: we send no file (an empty packet), then
            # the server answers the statement.
            self.send_packet(b"")
            return self.read_result(timeout)
        ncols, _ = lenenc_int(p, 0)
        cols = []
        for _ in range(ncols):
            c = self.read_packet(timeout)
            pos = 0
            fields = []
            for _ in range(6):
                s, pos = lenenc_str(c, pos)
                fields.append(s)
            cols.append(fields[4])
        eof = self.read_packet(timeout)
        if eof[:1] != b"\xfe":
            raise ProtocolError(f"expected EOF after columns, got {eof[:16]!r}")
        rows = []
        while True:
            r = self.read_packet(timeout)
            if r[:1] == b"\xfe" and len(r) < 9:
                status = struct.unpack_from("<H", r, 3)[0] if len(r) >= 5 else 0
                return Result("rows", columns=cols, rows=rows, status=status)
            if r[:1] == b"\xff":
                return parse_err(r)
            row, pos = [], 0
            for _ in range(ncols):
                v, pos = lenenc_str(r, pos)
                row.append(v)
            rows.append(tuple(row))

    def read_results(self, timeout=None):
        """Every result of a (multi-)statement, up to the first ERR or the
        last one without SERVER_MORE_RESULTS_EXISTS."""
        out = []
        while True:
            r = self.read_result(timeout)
            out.append(r)
            if r.kind == "err" or not r.more:
                return out

    def query(self, sql, timeout=None):
        """COM_QUERY; returns the list of results."""
        self.command(COM_QUERY, sql)
        return self.read_results(timeout)

    def query1(self, sql, timeout=None):
        """COM_QUERY of one statement; the rows, or ServerError."""
        rs = self.query(sql, timeout)
        r = rs[-1]
        if r.kind == "err":
            raise ServerError(r.errno, r.sqlstate, r.message)
        return r.rows

    def ping(self, timeout=None):
        self.command(COM_PING)
        return self.read_result(timeout)

    def prepare(self, sql, timeout=None):
        """COM_STMT_PREPARE: Result 'prepare' (definitions read) or 'err'."""
        self.command(COM_STMT_PREPARE, sql)
        p = self.read_packet(timeout)
        if p[:1] == b"\xff":
            return parse_err(p)
        if p[:1] != b"\x00" or len(p) < 12:
            raise ProtocolError(f"unexpected PREPARE answer {p[:16]!r}")
        stmt_id, n_cols, n_params = struct.unpack_from("<IHH", p, 1)
        for n in (n_params, n_cols):
            if n:
                for _ in range(n):
                    self.read_packet(timeout)
                self.read_packet(timeout)            # EOF
        return Result("prepare", stmt_id=stmt_id, n_params=n_params, n_cols=n_cols)

    def execute(self, stmt_id, params=(), timeout=None):
        """COM_STMT_EXECUTE with string (or NULL) parameters; the first
        response packet parsed as OK/ERR, or 'rows' with the binary rows
        skipped (their count kept in .rows as raw payloads)."""
        arg = struct.pack("<IBI", stmt_id, 0, 1)
        if params:
            nb = bytearray((len(params) + 7) // 8)
            for i, v in enumerate(params):
                if v is None:
                    nb[i // 8] |= 1 << (i % 8)
            arg += bytes(nb) + b"\x01" + b"\xfd\x00" * len(params)
            for v in params:
                if v is not None:
                    v = v.encode() if isinstance(v, str) else v
                    arg += _lenenc_bytes(v)
        self.command(COM_STMT_EXECUTE, arg)
        return self._read_binary_result(timeout)

    def _read_binary_result(self, timeout):
        p = self.read_packet(timeout)
        if p[:1] == b"\x00":
            return parse_ok(p)
        if p[:1] == b"\xff":
            return parse_err(p)
        ncols, _ = lenenc_int(p, 0)
        for _ in range(ncols):
            self.read_packet(timeout)
        self.read_packet(timeout)                    # EOF
        rows = []
        while True:
            r = self.read_packet(timeout)
            if r[:1] == b"\xfe" and len(r) < 9:
                status = struct.unpack_from("<H", r, 3)[0] if len(r) >= 5 else 0
                return Result("rows", rows=rows, status=status)
            if r[:1] == b"\xff":
                return parse_err(r)
            rows.append(r)

    def expect_closed(self, timeout):
        """True if the peer closes the connection within timeout seconds
        (anything it sends first is read and dropped)."""
        deadline = time.monotonic() + timeout
        try:
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.sock.settimeout(left)
                if not self.sock.recv(65536):
                    return True
        except socket.timeout:
            return False
        except OSError:
            return True


def _lenenc_bytes(v):
    n = len(v)
    if n < 0xFB:
        return bytes([n]) + v
    if n < 1 << 16:
        return b"\xfc" + struct.pack("<H", n) + v
    if n < 1 << 24:
        return b"\xfd" + n.to_bytes(3, "little") + v
    return b"\xfe" + struct.pack("<Q", n) + v


def connect(m, user="root", password=None, db=None, **kw):
    """A raw connection through a conftest Manx as a manx user."""
    u, p = m.creds(user)
    if password is not None:
        p = password
    return Conn(m.host, m.port, u, p, m.db if db is None else db, **kw)
