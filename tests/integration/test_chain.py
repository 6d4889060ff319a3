"""manx as a client of its backends, tested against manx itself as the
backend (the only server here speaking caching_sha2_password and offering
TLS): an outer manx logs in to an inner manx with caching_sha2_password,
over TLS (ssl = true) and over plain TCP (full authentication through the
RSA public key exchange)."""

import subprocess

import pytest

pytestmark = pytest.mark.manx_only

INNER = """\
[manx]
listen = 127.0.0.1:{port}
admin_listen = 127.0.0.1:{admin_port}
workers = 1
state_dir = {tmp}/state
log_level = debug
shutdown_timeout = 5000
ssl_cert = {tmp}/cert.pem
ssl_key = {tmp}/key.pem
[user chain]
password = chain-pw
schemas = aiurt-platform
auth_plugin = caching_sha2_password
[schema aiurt-platform]
datanode = dn1
[datanode dn1]
datahost = dh
database = aiurt_platform
[datahost dh]
balance = 0
max_con = 10
min_con = 1
write_hosts = m1
[host m1]
address = 127.0.0.1:{p1}
user = app
password = app123
"""

OUTER = """\
[manx]
listen = 127.0.0.1:{port}
admin_listen = 127.0.0.1:{admin_port}
workers = 1
state_dir = {tmp}/state
log_level = debug
shutdown_timeout = 5000
[user root]
password = 123456
schemas = aiurt-platform
[schema aiurt-platform]
datanode = dn1
[datanode dn1]
datahost = dh
database = aiurt-platform
[datahost dh]
balance = 0
max_con = 10
min_con = 1
write_hosts = inner
[host inner]
address = 127.0.0.1:INNER_PORT
user = chain
password = chain-pw
ssl = SSL
"""


def make_cert(tmp):
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=manx-test", "-keyout", str(tmp / "key.pem"),
                    "-out", str(tmp / "cert.pem")], check=True, capture_output=True, timeout=60)


@pytest.mark.parametrize("ssl", ["true", "false"])
def test_backend_caching_sha2(manx, tmp_path, ssl):
    inner = manx(config_text=INNER, start=False)
    make_cert(inner.tmp)
    inner.start()
    outer = manx(config_text=OUTER.replace("INNER_PORT", str(inner.port)).replace("SSL", ssl))
    c = outer.connect()
    with c.cursor() as cur:
        cur.execute("SELECT @@port, 1 + 1")
        assert cur.fetchone() == (outer.pair.port1, 2)
        cur.execute("SELECT DATABASE()")
        assert cur.fetchone() == ("aiurt-platform",)
    c.close()
    log = inner.log()
    assert "chain@" in log and "logged in" in log, log[-2000:]
    if ssl == "true":
        assert "logged in over TLS" in log
    else:
        # No TLS: the password went RSA-encrypted with manx's public key.
        assert "logged in over TLS" not in log
