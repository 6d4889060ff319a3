"""Client authentication against manx's own users: errors with the server's
codes and messages, password hashes, caching_sha2_password, TLS."""

import os
import ssl
import subprocess

import pymysql
import pytest

SHA_USER = """
[user sha]
password = 123456
schemas = aiurt-platform
auth_plugin = caching_sha2_password
"""


def _login_error(fn):
    with pytest.raises(pymysql.err.MySQLError) as e:
        fn().close()
    return e.value.args[0], e.value.args[1] if len(e.value.args) > 1 else ""


def test_wrong_password(manx):
    m = manx()
    code, msg = _login_error(lambda: m.connect(password="not-the-password"))
    assert code == 1045
    assert msg.startswith("Access denied for user 'root'@'"), msg
    assert msg.endswith("(using password: YES)"), msg
    r = m.cli("select 1", password="nope")
    assert r.returncode == 1 and "ERROR 1045 (28000)" in r.stderr, r.stderr


def test_empty_password(manx):
    m = manx()
    code, msg = _login_error(lambda: m.connect(password=""))
    assert code == 1045
    assert "(using password: NO)" in msg, msg


def test_unknown_user(manx):
    m = manx()
    code, _ = _login_error(lambda: m.connect(user="nobody_here", password="x"))
    assert code == 1045


def test_unknown_schema(manx):
    m = manx()
    code, msg = _login_error(lambda: m.connect(db="nope"))
    assert code == 1049
    assert msg == "Unknown database 'nope'"


def test_no_schema_then_use(manx):
    m = manx()
    with m.connect(db="") as c, c.cursor() as cur:
        cur.execute(f"use `{m.db}`")
        cur.execute("select 1")
        assert cur.fetchone() == (1,)


@pytest.mark.manx_only
def test_schema_not_granted(manx):
    m = manx()
    code, msg = _login_error(lambda: m.connect(user="test", db="other"))
    assert code == 1044
    assert msg.startswith("Access denied for user 'test'@"), msg
    assert msg.endswith("to database 'other'"), msg
    # The same through USE after a good login.
    with m.connect(user="test") as c, c.cursor() as cur:
        with pytest.raises(pymysql.err.MySQLError) as e:
            cur.execute("use other")
        assert e.value.args[0] == 1044
        cur.execute("select 1")
        assert cur.fetchone() == (1,)


@pytest.mark.manx_only
def test_password_hash_user(manx):
    m = manx()
    with m.connect(user="hashuser", password="123456") as c, c.cursor() as cur:
        cur.execute("select 2")
        assert cur.fetchone() == (2,)
    code, _ = _login_error(lambda: m.connect(user="hashuser", password="1234567"))
    assert code == 1045


@pytest.mark.manx_only
def test_readonly_user_can_read(manx):
    m = manx()
    with m.connect(user="test") as c, c.cursor() as cur:
        cur.execute("select 3")
        assert cur.fetchone() == (3,)


@pytest.mark.manx_only
def test_caching_sha2_password(manx):
    pytest.importorskip("cryptography", reason="pymysql needs cryptography for RSA")
    m = manx(users_extra=SHA_USER)
    # The first login is a full authentication (RSA over plain TCP); the
    # second may take the fast path from manx's cache.  Both must work.
    for _ in range(2):
        with m.connect(user="sha", password="123456") as c, c.cursor() as cur:
            cur.execute("select 4")
            assert cur.fetchone() == (4,)
    code, _ = _login_error(lambda: m.connect(user="sha", password="wrong"))
    assert code == 1045
    # libmariadb's caching_sha2_password plugin (RSA public key request).
    # Not the mariadb CLI: its statically linked client sends the password
    # in clear after "perform full authentication" on plain TCP, which a
    # server must refuse; test_tls_caching_sha2 covers the CLI over TLS.
    with m.capi(user="sha", password="123456") as c:
        assert c.query("select 5") == [(b"5",)]


@pytest.fixture
def cert(tmp_path):
    crt, key = tmp_path / "manx.crt", tmp_path / "manx.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=manx", "-keyout", str(key), "-out", str(crt)],
                   check=True, capture_output=True, timeout=60)
    os.chmod(key, 0o600)
    return crt, key


@pytest.mark.manx_only
def test_tls(manx, cert):
    crt, key = cert
    m = manx(manx_extra={"ssl_cert": crt, "ssl_key": key})
    with m.connect(ssl_ca=str(crt), ssl_verify_identity=False) as c, c.cursor() as cur:
        assert isinstance(c._sock, ssl.SSLSocket)
        assert c._sock.version() in ("TLSv1.2", "TLSv1.3")
        cur.execute("select 'tls'")
        assert cur.fetchone() == ("tls",)
        # A result bigger than a TLS record.
        cur.execute("select repeat('x', 100000)")
        assert len(cur.fetchone()[0]) == 100000
    # Plain connections still work when TLS is optional.
    with m.connect() as c, c.cursor() as cur:
        assert not isinstance(c._sock, ssl.SSLSocket)
        cur.execute("select 1")
        assert cur.fetchone() == (1,)
    # The CLI with --ssl: its status shows the cipher of *its* connection.
    r = m.cli("status", args=["--ssl", "--ssl-ca", str(crt)])
    assert r.returncode == 0, r.stderr
    assert "Cipher in use" in r.stdout, r.stdout


@pytest.mark.manx_only
def test_require_secure_transport(manx, cert):
    crt, key = cert
    m = manx(manx_extra={"ssl_cert": crt, "ssl_key": key, "require_secure_transport": "true"})
    code, _ = _login_error(lambda: m.connect())
    assert code in (3159, 1045)
    with m.connect(ssl_ca=str(crt), ssl_verify_identity=False) as c, c.cursor() as cur:
        assert isinstance(c._sock, ssl.SSLSocket)
        cur.execute("select 'secure'")
        assert cur.fetchone() == ("secure",)


@pytest.mark.manx_only
def test_tls_caching_sha2(manx, cert):
    """Over TLS caching_sha2_password sends the password in clear, no RSA."""
    crt, key = cert
    m = manx(manx_extra={"ssl_cert": crt, "ssl_key": key}, users_extra=SHA_USER)
    with m.connect(user="sha", password="123456", ssl_ca=str(crt),
                   ssl_verify_identity=False) as c, c.cursor() as cur:
        cur.execute("select 6")
        assert cur.fetchone() == (6,)
    r = m.cli("select 7", user="sha", args=["-N", "-B", "--ssl", "--ssl-ca", str(crt)])
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "7"
