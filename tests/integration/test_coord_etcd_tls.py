"""coordination = etcd over TLS (issue 13): a real etcd that serves its
client port with a certificate and demands client certificates
(--client-cert-auth), certificates made by openssl for this test; manx with
etcd_cacert, etcd_cert and etcd_key (an endpoint without a scheme then means
https) gets in step; one without a client certificate is refused by etcd and
never claims to be in step."""

import base64
import json
import os
import shutil
import signal
import ssl
import subprocess
import tempfile
import urllib.request
from pathlib import Path

import pytest

from conftest import poll, wait_for
from coordfix import ETCD_BIN, Cluster, attempt, coordination, etcd_root, port_range, wait_coord

pytestmark = pytest.mark.manx_only

PORTS = port_range(700, 100)


def openssl(*args, cwd):
    r = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr


def make_certs(d):
    """A CA, etcd's server certificate for 127.0.0.1 and a client certificate.
    The server's may also serve as a client's: etcd's JSON gateway dials
    its own gRPC port with it (etcd 3.4), and refuses it otherwise."""
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
            "-days", "2", "-subj", "/CN=manx test CA", cwd=d)
    for name, ext in (("server", "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth"),
                      ("client", "extendedKeyUsage=clientAuth")):
        (Path(d) / f"{name}.ext").write_text(ext + "\n")
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.csr",
                "-subj", f"/CN=manx test {name}", cwd=d)
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                "-out", f"{name}.pem", "-days", "2", "-extfile", f"{name}.ext", cwd=d)


class TlsEtcd:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="etcd-tls-", dir=etcd_root())
        make_certs(self.dir)
        self.port, self.peer = PORTS.take(), PORTS.take()
        d = self.dir
        self.log = open(os.path.join(d, "etcd.log"), "w")
        self.proc = subprocess.Popen(
            ["timeout", "600", ETCD_BIN, "--name", "tls", "--data-dir", os.path.join(d, "data"),
             "--listen-client-urls", f"https://127.0.0.1:{self.port}",
             "--advertise-client-urls", f"https://127.0.0.1:{self.port}",
             "--listen-peer-urls", f"http://127.0.0.1:{self.peer}",
             "--initial-advertise-peer-urls", f"http://127.0.0.1:{self.peer}",
             "--initial-cluster", f"tls=http://127.0.0.1:{self.peer}",
             "--cert-file", f"{d}/server.pem", "--key-file", f"{d}/server.key",
             "--client-cert-auth", "--trusted-ca-file", f"{d}/ca.pem", "--log-level", "warn", "--logger", "zap"],
            stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        self.ctx = ssl.create_default_context(cafile=f"{d}/ca.pem")
        self.ctx.load_cert_chain(f"{d}/client.pem", f"{d}/client.key")
        wait_for(lambda: attempt(self.post, "/v3/kv/range", {"key": "eA=="})[0] is not None, 20,
                 "etcd answering over TLS with a client certificate")

    def path(self, name):
        return os.path.join(self.dir, name)

    def post(self, path, body):
        req = urllib.request.Request(f"https://127.0.0.1:{self.port}{path}", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=5, context=self.ctx) as r:
            return json.loads(r.read())

    def get(self, key):
        """The value of key (bytes), None if absent."""
        kvs = self.post("/v3/kv/range", {"key": base64.b64encode(key.encode()).decode()}).get("kvs") or []
        return base64.b64decode(kvs[0]["value"]) if kvs else None

    def close(self):
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except OSError:
            pass
        self.proc.wait(timeout=10)
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="module")
def tls_etcd():
    e = TlsEtcd()
    try:
        yield e
    finally:
        e.close()


@pytest.fixture
def cluster(pair, tmp_path):
    from conftest import _stop_manxes
    cl = Cluster(pair, tmp_path, PORTS)
    try:
        yield cl
    finally:
        _stop_manxes(cl.all)


def tls_keys(etcd, name, client_cert=True):
    keys = {"coordination": "etcd", "etcd_endpoints": f"127.0.0.1:{etcd.port}", "cluster_name": f"tls_{name}",
            "instance_name": f"manx-{name}", "etcd_cacert": etcd.path("ca.pem")}
    if client_cert:
        keys.update(etcd_cert=etcd.path("client.pem"), etcd_key=etcd.path("client.key"))
    return keys


def test_etcd_over_tls_with_a_client_certificate(tls_etcd, cluster):
    m = cluster.add("manx-ok", tls_keys(tls_etcd, "ok"))
    wait_coord([m], lambda r: r["STATE"] == "SYNCED" and r["I_DECIDE"] == "1", 15, "in step with etcd over TLS")
    w = json.loads(tls_etcd.get("/manx/tls_ok/datahost/localhost1/writer"))
    assert w["host"] == "hostM1" and w["index"] == 0, w
    assert tls_etcd.get("/manx/tls_ok/datahost/localhost1/decider") == b"manx-ok"


def test_etcd_refuses_an_instance_without_a_client_certificate(tls_etcd, cluster):
    m = cluster.add("manx-nocert", tls_keys(tls_etcd, "nocert", client_cert=False))
    assert poll(lambda: "lease grant failed" in m.log(), 15), m.log()[-2000:]
    r = coordination(m)
    assert r["STATE"] in ("SYNCING", "LOST") and r["I_DECIDE"] == "0", r
    assert tls_etcd.post("/v3/kv/range", {"key": base64.b64encode(b"/manx/tls_nocert/").decode(),
                                          "range_end": base64.b64encode(b"/manx/tls_nocert0").decode()}
                         ).get("kvs") is None
