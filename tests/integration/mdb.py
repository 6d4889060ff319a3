"""A thin ctypes wrapper over libmariadb.so.3 (MariaDB Connector/C) for what
pymysql cannot do: the binary protocol (prepared statements, cursors, long
data), COM_FIELD_LIST, COM_CHANGE_USER and COM_RESET_CONNECTION.

Only the calls the tests need are declared; every handle is closed by the
context managers so a failing test leaks no connection."""

import ctypes
import ctypes.util

_lib = None

# enum mysql_option (mysql.h)
MYSQL_OPT_CONNECT_TIMEOUT = 0
MYSQL_OPT_LOCAL_INFILE = 8
MYSQL_OPT_READ_TIMEOUT = 11
MYSQL_OPT_WRITE_TIMEOUT = 12
MYSQL_OPT_SSL_ENFORCE = 38
MYSQL_OPT_MAX_ALLOWED_PACKET = 39

# enum enum_field_types
MYSQL_TYPE_LONG = 3
MYSQL_TYPE_NULL = 6
MYSQL_TYPE_LONGLONG = 8
MYSQL_TYPE_BLOB = 252
MYSQL_TYPE_VAR_STRING = 253
MYSQL_TYPE_STRING = 254

# enum enum_stmt_attr_type, enum_cursor_type
STMT_ATTR_CURSOR_TYPE = 1
STMT_ATTR_PREFETCH_ROWS = 2
CURSOR_TYPE_READ_ONLY = 1

MYSQL_NO_DATA = 100
MYSQL_DATA_TRUNCATED = 101


class MYSQL_BIND(ctypes.Structure):
    """struct st_mysql_bind of Connector/C 3.x (112 bytes on LP64)."""
    _fields_ = [
        ("length", ctypes.POINTER(ctypes.c_ulong)),
        ("is_null", ctypes.POINTER(ctypes.c_char)),
        ("buffer", ctypes.c_void_p),
        ("error", ctypes.POINTER(ctypes.c_char)),
        ("u", ctypes.c_void_p),
        ("store_param_func", ctypes.c_void_p),
        ("fetch_result", ctypes.c_void_p),
        ("skip_result", ctypes.c_void_p),
        ("buffer_length", ctypes.c_ulong),
        ("offset", ctypes.c_ulong),
        ("length_value", ctypes.c_ulong),
        ("flags", ctypes.c_uint),
        ("pack_length", ctypes.c_uint),
        ("buffer_type", ctypes.c_int),
        ("error_value", ctypes.c_char),
        ("is_unsigned", ctypes.c_char),
        ("long_data_used", ctypes.c_char),
        ("is_null_value", ctypes.c_char),
        ("extension", ctypes.c_void_p),
    ]


assert ctypes.sizeof(MYSQL_BIND) == 112, ctypes.sizeof(MYSQL_BIND)


def lib():
    global _lib
    if _lib is not None:
        return _lib
    name = ctypes.util.find_library("mariadb") or "libmariadb.so.3"
    L = ctypes.CDLL(name)
    P, I, U, UL, S = (ctypes.c_void_p, ctypes.c_int, ctypes.c_uint,
                      ctypes.c_ulong, ctypes.c_char_p)
    sigs = {
        "mysql_init": (P, [P]),
        "mysql_options": (I, [P, I, P]),
        "mysql_real_connect": (P, [P, S, S, S, S, U, S, UL]),
        "mysql_close": (None, [P]),
        "mysql_errno": (U, [P]),
        "mysql_error": (S, [P]),
        "mysql_sqlstate": (S, [P]),
        "mysql_query": (I, [P, S]),
        "mysql_real_query": (I, [P, S, UL]),
        "mysql_store_result": (P, [P]),
        "mysql_free_result": (None, [P]),
        "mysql_num_fields": (U, [P]),
        "mysql_num_rows": (ctypes.c_ulonglong, [P]),
        "mysql_fetch_row": (ctypes.POINTER(ctypes.c_char_p), [P]),
        "mysql_fetch_lengths": (ctypes.POINTER(UL), [P]),
        "mysql_next_result": (I, [P]),
        "mysql_list_fields": (P, [P, S, S]),
        "mysql_change_user": (ctypes.c_char, [P, S, S, S]),
        "mysql_reset_connection": (I, [P]),
        "mysql_ping": (I, [P]),
        "mysql_select_db": (I, [P, S]),
        "mysql_get_ssl_cipher": (S, [P]),
        "mysql_stmt_init": (P, [P]),
        "mysql_stmt_prepare": (I, [P, S, UL]),
        "mysql_stmt_param_count": (UL, [P]),
        "mysql_stmt_field_count": (U, [P]),
        "mysql_stmt_bind_param": (ctypes.c_char, [P, P]),
        "mysql_stmt_bind_result": (ctypes.c_char, [P, P]),
        "mysql_stmt_execute": (I, [P]),
        "mysql_stmt_store_result": (I, [P]),
        "mysql_stmt_fetch": (I, [P]),
        "mysql_stmt_fetch_column": (I, [P, P, U, UL]),
        "mysql_stmt_attr_set": (ctypes.c_char, [P, I, P]),
        "mysql_stmt_send_long_data": (ctypes.c_char, [P, U, S, UL]),
        "mysql_stmt_reset": (ctypes.c_char, [P]),
        "mysql_stmt_close": (ctypes.c_char, [P]),
        "mysql_stmt_errno": (U, [P]),
        "mysql_stmt_error": (S, [P]),
        "mysql_stmt_sqlstate": (S, [P]),
        "mysql_stmt_affected_rows": (ctypes.c_ulonglong, [P]),
        "mysql_stmt_num_rows": (ctypes.c_ulonglong, [P]),
        "mysql_stmt_free_result": (ctypes.c_char, [P]),
    }
    for fn, (res, args) in sigs.items():
        f = getattr(L, fn)
        f.restype = res
        f.argtypes = args
    _lib = L
    return L


def _b(s):
    return None if s is None else (s if isinstance(s, bytes) else str(s).encode())


class Error(Exception):
    def __init__(self, errno, sqlstate, msg):
        super().__init__(f"{errno} ({sqlstate}): {msg}")
        self.errno = errno
        self.sqlstate = sqlstate
        self.msg = msg


class Conn:
    """One MYSQL handle; raises Error on failure."""

    def __init__(self, host, port, user, password, db=None, timeout=20,
                 local_infile=False, max_allowed_packet=None):
        L = lib()
        self.h = L.mysql_init(None)
        if not self.h:
            raise MemoryError("mysql_init")
        t = ctypes.c_uint(timeout)
        L.mysql_options(self.h, MYSQL_OPT_CONNECT_TIMEOUT, ctypes.byref(t))
        L.mysql_options(self.h, MYSQL_OPT_READ_TIMEOUT, ctypes.byref(t))
        L.mysql_options(self.h, MYSQL_OPT_WRITE_TIMEOUT, ctypes.byref(t))
        if local_infile:
            one = ctypes.c_uint(1)
            L.mysql_options(self.h, MYSQL_OPT_LOCAL_INFILE, ctypes.byref(one))
        if max_allowed_packet:
            m = ctypes.c_ulong(max_allowed_packet)
            L.mysql_options(self.h, MYSQL_OPT_MAX_ALLOWED_PACKET, ctypes.byref(m))
        if not L.mysql_real_connect(self.h, _b(host), _b(user), _b(password),
                                    _b(db), port, None, 0):
            err = self._err()
            L.mysql_close(self.h)
            self.h = None
            raise err

    def _err(self):
        L = lib()
        return Error(L.mysql_errno(self.h), (L.mysql_sqlstate(self.h) or b"").decode(),
                     (L.mysql_error(self.h) or b"").decode(errors="replace"))

    def close(self):
        if self.h:
            lib().mysql_close(self.h)
            self.h = None

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()

    def query(self, sql):
        """Runs one statement; returns a list of row tuples (bytes or None),
        or None for statements without a result set."""
        L = lib()
        sql = _b(sql)
        if L.mysql_real_query(self.h, sql, len(sql)) != 0:
            raise self._err()
        res = L.mysql_store_result(self.h)
        if not res:
            if L.mysql_errno(self.h):
                raise self._err()
            return None
        try:
            n = L.mysql_num_fields(res)
            rows = []
            while True:
                row = L.mysql_fetch_row(res)
                if not row:
                    break
                lens = L.mysql_fetch_lengths(res)
                rows.append(tuple(
                    None if not ctypes.cast(row[i], ctypes.c_void_p).value
                    else ctypes.string_at(row[i], lens[i]) for i in range(n)))
            return rows
        finally:
            L.mysql_free_result(res)

    def list_fields(self, table, wild=None):
        """COM_FIELD_LIST; returns the number of fields."""
        L = lib()
        res = L.mysql_list_fields(self.h, _b(table), _b(wild))
        if not res:
            raise self._err()
        try:
            return L.mysql_num_fields(res)
        finally:
            L.mysql_free_result(res)

    def change_user(self, user, password, db=None):
        if lib().mysql_change_user(self.h, _b(user), _b(password), _b(db)) != b"\x00":
            raise self._err()

    def reset_connection(self):
        if lib().mysql_reset_connection(self.h) != 0:
            raise self._err()

    def ping(self):
        if lib().mysql_ping(self.h) != 0:
            raise self._err()

    def stmt(self, sql):
        return Stmt(self, sql)


class Stmt:
    """A prepared statement with string/int/NULL parameters and results
    fetched as bytes."""

    def __init__(self, conn, sql):
        L = lib()
        self.conn = conn
        self.s = L.mysql_stmt_init(conn.h)
        if not self.s:
            raise conn._err()
        self._keep = []
        sql = _b(sql)
        if L.mysql_stmt_prepare(self.s, sql, len(sql)) != 0:
            err = self._err()
            self.close()
            raise err

    def _err(self):
        L = lib()
        return Error(L.mysql_stmt_errno(self.s), (L.mysql_stmt_sqlstate(self.s) or b"").decode(),
                     (L.mysql_stmt_error(self.s) or b"").decode(errors="replace"))

    def close(self):
        if self.s:
            lib().mysql_stmt_close(self.s)
            self.s = None

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()

    @property
    def param_count(self):
        return lib().mysql_stmt_param_count(self.s)

    def set_cursor(self, prefetch=1):
        L = lib()
        ct = ctypes.c_ulong(CURSOR_TYPE_READ_ONLY)
        if L.mysql_stmt_attr_set(self.s, STMT_ATTR_CURSOR_TYPE, ctypes.byref(ct)) != b"\x00":
            raise self._err()
        pf = ctypes.c_ulong(prefetch)
        if L.mysql_stmt_attr_set(self.s, STMT_ATTR_PREFETCH_ROWS, ctypes.byref(pf)) != b"\x00":
            raise self._err()

    def bind(self, params, long_data=()):
        """params: list of int / str / bytes / None.  Indexes in long_data
        are bound as BLOBs to be filled with send_long_data()."""
        n = len(params)
        binds = (MYSQL_BIND * max(n, 1))()
        keep = []
        for i, v in enumerate(params):
            b = binds[i]
            if i in long_data:
                b.buffer_type = MYSQL_TYPE_BLOB
            elif v is None:
                b.buffer_type = MYSQL_TYPE_NULL
            elif isinstance(v, int):
                val = ctypes.c_longlong(v)
                keep.append(val)
                b.buffer_type = MYSQL_TYPE_LONGLONG
                b.buffer = ctypes.cast(ctypes.byref(val), ctypes.c_void_p)
            else:
                data = _b(v)
                buf = ctypes.create_string_buffer(data, len(data))
                ln = ctypes.c_ulong(len(data))
                keep += [buf, ln]
                b.buffer_type = MYSQL_TYPE_STRING
                b.buffer = ctypes.cast(buf, ctypes.c_void_p)
                b.buffer_length = len(data)
                b.length = ctypes.pointer(ln)
        self._keep = [binds, keep]
        if lib().mysql_stmt_bind_param(self.s, binds) != b"\x00":
            raise self._err()

    def send_long_data(self, idx, data, chunk=1 << 20):
        for off in range(0, len(data), chunk):
            part = data[off:off + chunk]
            if lib().mysql_stmt_send_long_data(self.s, idx, part, len(part)) != b"\x00":
                raise self._err()

    def execute(self):
        if lib().mysql_stmt_execute(self.s) != 0:
            raise self._err()
        return lib().mysql_stmt_affected_rows(self.s)

    def store_result(self):
        if lib().mysql_stmt_store_result(self.s) != 0:
            raise self._err()

    def reset(self):
        if lib().mysql_stmt_reset(self.s) != b"\x00":
            raise self._err()

    def fetch_all(self, max_col=1 << 16, limit=None):
        """Fetches rows (after execute, with or without store_result) as
        tuples of bytes/None.  Columns longer than max_col are fetched in
        full with mysql_stmt_fetch_column."""
        L = lib()
        n = L.mysql_stmt_field_count(self.s)
        binds = (MYSQL_BIND * max(n, 1))()
        bufs, lens, nulls, errs = [], [], [], []
        for i in range(n):
            buf = ctypes.create_string_buffer(max_col)
            ln = ctypes.c_ulong(0)
            nl = ctypes.c_char(b"\x00")
            er = ctypes.c_char(b"\x00")
            bufs.append(buf); lens.append(ln); nulls.append(nl); errs.append(er)
            b = binds[i]
            b.buffer_type = MYSQL_TYPE_STRING
            b.buffer = ctypes.cast(buf, ctypes.c_void_p)
            b.buffer_length = max_col
            b.length = ctypes.pointer(ln)
            b.is_null = ctypes.pointer(nl)
            b.error = ctypes.pointer(er)
        if n and L.mysql_stmt_bind_result(self.s, binds) != b"\x00":
            raise self._err()
        rows = []
        while limit is None or len(rows) < limit:
            rc = L.mysql_stmt_fetch(self.s)
            if rc == MYSQL_NO_DATA:
                break
            if rc not in (0, MYSQL_DATA_TRUNCATED):
                raise self._err()
            row = []
            for i in range(n):
                if nulls[i].value == b"\x01":
                    row.append(None)
                elif lens[i].value > max_col:
                    big = ctypes.create_string_buffer(lens[i].value)
                    one = MYSQL_BIND()
                    ln = ctypes.c_ulong(0)
                    one.buffer_type = MYSQL_TYPE_STRING
                    one.buffer = ctypes.cast(big, ctypes.c_void_p)
                    one.buffer_length = lens[i].value
                    one.length = ctypes.pointer(ln)
                    if L.mysql_stmt_fetch_column(self.s, ctypes.byref(one), i, 0) != 0:
                        raise self._err()
                    row.append(big.raw[:lens[i].value])
                else:
                    row.append(bufs[i].raw[:lens[i].value])
            rows.append(tuple(row))
        return rows

    def free_result(self):
        lib().mysql_stmt_free_result(self.s)
