"""Fixtures for the coordination tests (issue 13; names from
/work/notes/coord-spec.md): a real etcd from Debian's etcd-server (one
member or a three-member cluster on loopback ports of the test's own), a
TCP forwarder a test can stop or turn into a black hole, N manx instances
in front of one MariaDB pair, console readers and a write load that
records which inserts were acknowledged.

Imported by test_coord_*.py and test_coordfix.py; conftest.py is not
changed (everything here builds on its Manx, render_config, own_pair,
sync_pair and wait_for).

Ports: every port comes from a PortRange (default 25000-25999, a range
no other test uses; env COORD_PORT_BASE/COORD_PORT_END move it), never
2379/2380 (the Debian package's own etcd service may listen there).  The
modules' own pair (tests kill its servers): run/coord-pair on
25007/25008, env COORD_PAIR_DIR/_PORT1/_PORT2.  ETCD_BIN/ETCDCTL_BIN
default to Debian's /usr/bin/etcd and /usr/bin/etcdctl.

    MANX_BIN=$PWD/build-asan/proxy/manx /usr/bin/python3 -m pytest \
        tests/integration/test_coordfix.py tests/integration/test_coord_*.py
"""

import base64
import json
import os
import re
import selectors
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from conftest import DATABASE, TOP, Manx, killable_pair, render_config, server_pid, sync_pair, wait_for

ETCD_BIN = os.environ.get("ETCD_BIN", "/usr/bin/etcd")
ETCDCTL_BIN = os.environ.get("ETCDCTL_BIN", "/usr/bin/etcdctl")
ADMIN_USER = "\n[admin]\nuser = admin\npassword = admin\n"

# Heartbeat settings of every coordination test (a writer killed with -9 is
# DOWN after about retries * retry_interval + period: well under 2 s).
HEARTBEAT = {"heartbeat_period": "500ms", "heartbeat_timeout": "1000ms", "heartbeat_retries": 2,
             "heartbeat_retry_interval": "200ms", "rejoin_delay": "1s"}
LEASE_TTL_S = 3            # etcd_lease_ttl of the tests
ETCD_TIMEOUT_S = 2         # etcd_timeout of the tests


# --- ports --------------------------------------------------------------------

class PortRange:
    """Hands out ports from [start, end) that nothing listens on, in order;
    a port once handed out is never handed out again by this object."""

    def __init__(self, start, end):
        self.next, self.end = start, end

    def take(self):
        while self.next < self.end:
            p = self.next
            self.next += 1
            if p in (2379, 2380):
                continue
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
                try:
                    s.bind(("127.0.0.1", p))
                except OSError:
                    continue
            return p
        pytest.fail(f"no free port left in the coordination tests' range (ended at {self.end})")

    def take_block(self, n):
        """n consecutive free ports (etcd members want client+peer pairs)."""
        while True:
            first = self.take()
            ports = [first]
            while len(ports) < n:
                p = self.take()
                if p != ports[-1] + 1:
                    break
                ports.append(p)
            if len(ports) == n:
                return ports


def port_range(offset, size):
    """The slice [base+offset, base+offset+size) of the coordination range,
    so modules of the suite never take each other's ports."""
    base = int(os.environ.get("COORD_PORT_BASE", "25000"))
    end = int(os.environ.get("COORD_PORT_END", str(base + 1000)))
    return PortRange(base + offset, min(base + offset + size, end))


# --- etcd -----------------------------------------------------------------------

def etcd_root():
    """Where test etcds keep their data: tests/run stops whatever runs from
    there when pytest itself was killed (members run in sessions of their
    own, so the process group kill does not reach them)."""
    d = TOP / "run" / "etcd"
    d.mkdir(parents=True, exist_ok=True)
    return str(d)


def b64(s):
    if isinstance(s, str):
        s = s.encode()
    return base64.b64encode(s).decode()


class Etcd:
    """A real etcd (members=1 or 3) on 127.0.0.1, each member started under
    `timeout` in a process group of its own with a data dir under one
    mktemp dir.  Member i listens for clients on ports[2i] and for peers on
    ports[2i+1] (base_port, base_port+1, ... when base_port is given).

    .endpoints       "127.0.0.1:c0,127.0.0.1:c1,..." (for etcd_endpoints)
    .stop(i)         SIGTERM (bounded, then SIGKILL); the data dir stays
    .start(i)        starts member i again on its data dir, waits for health
    .freeze(i)       SIGSTOP (a hung etcd: connections open, nothing answers)
    .resume(i)       SIGCONT
    .get(key)        (value_bytes, mod_revision, version) or None
    .put(key, value) through the JSON gateway
    .close()         kills every member, removes the dir (safe to call twice)
    """

    def __init__(self, members=1, base_port=None, ports=None, lifetime=1200):
        assert members in (1, 3), members
        if not os.access(ETCD_BIN, os.X_OK):
            pytest.fail(f"{ETCD_BIN} not found (apt-get install etcd-server etcd-client)")
        if ports is None:
            if base_port is None:
                pytest.fail("Etcd needs base_port or ports")
            ports = list(range(base_port, base_port + 2 * members))
        assert len(ports) >= 2 * members and not {2379, 2380} & set(ports), ports
        self.n = members
        self.client_ports = [ports[2 * i] for i in range(members)]
        self.peer_ports = [ports[2 * i + 1] for i in range(members)]
        self.names = [f"m{i}" for i in range(members)]
        self.lifetime = lifetime
        self.dir = Path(tempfile.mkdtemp(prefix="etcd-coord-", dir=etcd_root()))
        self.procs = [None] * members
        self.frozen = [False] * members
        self.cluster = ",".join(f"{n}=http://127.0.0.1:{p}" for n, p in zip(self.names, self.peer_ports))
        self.endpoints = ",".join(f"127.0.0.1:{p}" for p in self.client_ports)
        try:
            for i in range(members):
                self._spawn(i)
            for i in range(members):
                self._wait_healthy(i, 15)
            if members > 1:
                self._wait_formed(15)
        except BaseException:
            self.close()
            raise

    # process control

    def _spawn(self, i):
        c, p = self.client_ports[i], self.peer_ports[i]
        for port in (c, p):
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    pytest.fail(f"etcd port {port} is already in use")
        log = open(self.dir / f"{self.names[i]}.log", "ab")
        cmd = ["timeout", "-k", "5", str(self.lifetime), ETCD_BIN,
               "--name", self.names[i], "--data-dir", str(self.dir / self.names[i]),
               "--listen-client-urls", f"http://127.0.0.1:{c}",
               "--advertise-client-urls", f"http://127.0.0.1:{c}",
               "--listen-peer-urls", f"http://127.0.0.1:{p}",
               "--initial-advertise-peer-urls", f"http://127.0.0.1:{p}",
               "--initial-cluster", self.cluster, "--initial-cluster-state", "new",
               "--initial-cluster-token", f"coord-{os.getpid()}-{self.client_ports[0]}",
               "--log-level", "warn", "--logger", "zap"]
        try:
            # timeout runs etcd in timeout's own process group (it calls
            # setpgid itself; start_new_session makes that explicit), so a
            # signal to the group reaches etcd and timeout alike.
            self.procs[i] = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log,
                                             stderr=subprocess.STDOUT, start_new_session=True)
        finally:
            log.close()
        self.frozen[i] = False

    def _signal(self, i, sig):
        pr = self.procs[i]
        if pr is None or pr.poll() is not None:
            return False
        try:
            os.killpg(pr.pid, sig)
        except ProcessLookupError:
            return False
        return True

    def running(self, i):
        return self.procs[i] is not None and self.procs[i].poll() is None

    def stop(self, i=0, timeout=10):
        """Stops member i (SIGTERM, SIGKILL after `timeout` s); keeps its data."""
        pr = self.procs[i]
        if pr is None:
            return
        if self.frozen[i]:
            self._signal(i, signal.SIGCONT)
        self._signal(i, signal.SIGTERM)
        try:
            pr.wait(timeout)
        except subprocess.TimeoutExpired:
            self._signal(i, signal.SIGKILL)
            pr.wait(10)
        self.procs[i] = None
        self.frozen[i] = False
        # Nothing of it may still hold the client port (a test then
        # expects connection refused, not a hang).
        assert wait_closed(self.client_ports[i], 10), f"etcd member {i} still listens"

    def start(self, i=0, timeout=15):
        """Starts member i again (after stop) and waits until it is healthy."""
        assert self.procs[i] is None or self.procs[i].poll() is not None, f"member {i} is running"
        self._spawn(i)
        self._wait_healthy(i, timeout)

    def freeze(self, i=0):
        assert self._signal(i, signal.SIGSTOP), f"etcd member {i} is not running"
        self.frozen[i] = True

    def resume(self, i=0):
        assert self._signal(i, signal.SIGCONT), f"etcd member {i} is not running"
        self.frozen[i] = False

    def log(self, i=0):
        try:
            return (self.dir / f"{self.names[i]}.log").read_text(errors="replace")
        except OSError:
            return ""

    def close(self):
        for i in range(self.n):
            pr = self.procs[i]
            if pr is None:
                continue
            self._signal(i, signal.SIGCONT)
            self._signal(i, signal.SIGKILL)
            try:
                pr.wait(10)
            except subprocess.TimeoutExpired:
                pass
            self.procs[i] = None
        shutil.rmtree(self.dir, ignore_errors=True)

    # health

    def healthy(self, i):
        """GET /health on member i: true when it is part of a quorum."""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.client_ports[i]}/health",
                                        timeout=1) as r:
                return json.loads(r.read()).get("health") in ("true", True)
        except (OSError, ValueError, urllib.error.URLError):
            return False

    def _wait_healthy(self, i, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.running(i):
                pytest.fail(f"etcd member {i} exited ({self.procs[i].returncode}); log:\n"
                            f"{self.log(i)[-3000:]}")
            if self.healthy(i):
                return
            time.sleep(0.05)
        pytest.fail(f"etcd member {i} not healthy within {timeout}s; log:\n{self.log(i)[-3000:]}")

    def etcdctl(self, *args, endpoints=None, timeout=10):
        env = dict(os.environ, ETCDCTL_API="3")
        return subprocess.run([ETCDCTL_BIN, f"--endpoints={endpoints or self.endpoints}",
                               "--dial-timeout=2s", "--command-timeout=3s", *args],
                              capture_output=True, text=True, timeout=timeout, env=env)

    def members(self):
        """etcdctl member list: {name: client URL list}."""
        r = self.etcdctl("member", "list", "-w", "json")
        assert r.returncode == 0, r.stderr
        return {m.get("name", ""): m.get("clientURLs", []) for m in json.loads(r.stdout)["members"]}

    def status(self, i):
        """etcdctl endpoint status of member i: (member_id, leader_id)."""
        r = self.etcdctl("endpoint", "status", "-w", "json", endpoints=f"127.0.0.1:{self.client_ports[i]}")
        if r.returncode != 0:
            return None
        st = json.loads(r.stdout)[0]["Status"]
        return st["header"]["member_id"], st["leader"]

    def _wait_formed(self, timeout):
        """All members listed with their client URLs and agreeing on one
        leader that is one of them: the cluster really formed."""
        def formed():
            ms = self.members()
            if sorted(ms) != sorted(self.names) or not all(ms.values()):
                return False
            sts = [self.status(i) for i in range(self.n)]
            if None in sts:
                return False
            leaders = {s[1] for s in sts}
            return len(leaders) == 1 and leaders <= {s[0] for s in sts}
        wait_for(formed, timeout, "a three-member etcd cluster with one leader")

    # the JSON gateway (etcd-plan.md 2.2)

    def _post(self, path, body, timeout=2, members=None):
        last = None
        for i in members if members is not None else range(self.n):
            if not self.running(i) or self.frozen[i]:
                continue
            req = urllib.request.Request(f"http://127.0.0.1:{self.client_ports[i]}{path}",
                                         data=json.dumps(body).encode(),
                                         headers={"Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(req, timeout=timeout) as r:
                    return json.loads(r.read())
            except (OSError, ValueError, urllib.error.URLError) as e:
                last = e
        raise AssertionError(f"no etcd member answered {path}: {last}")

    def get(self, key):
        """(value_bytes, mod_revision, version) of key, or None when absent."""
        r = self._post("/v3/kv/range", {"key": b64(key)})
        kvs = r.get("kvs") or []
        if not kvs:
            return None
        kv = kvs[0]
        return (base64.b64decode(kv.get("value", "")), int(kv.get("mod_revision", 0)),
                int(kv.get("version", 0)))

    def get_json(self, key):
        """(decoded JSON value, mod_revision, version) or None."""
        kv = self.get(key)
        if kv is None:
            return None
        try:
            return json.loads(kv[0]), kv[1], kv[2]
        except ValueError:
            return kv[0].decode(errors="replace"), kv[1], kv[2]

    def keys(self, prefix):
        """{key: value_bytes} of every key under prefix."""
        p = prefix.encode()
        end = p[:-1] + bytes([p[-1] + 1])
        r = self._post("/v3/kv/range", {"key": b64(p), "range_end": b64(end)})
        return {base64.b64decode(kv["key"]).decode(errors="replace"): base64.b64decode(kv.get("value", ""))
                for kv in r.get("kvs") or []}

    def put(self, key, value):
        """Puts key = value (str/bytes); returns the revision of the put."""
        r = self._post("/v3/kv/put", {"key": b64(key), "value": b64(value)})
        return int(r["header"]["revision"])


def wait_closed(port, timeout):
    """True once nothing accepts connections on port (within timeout)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.settimeout(0.5)
            if s.connect_ex(("127.0.0.1", port)) != 0:
                return True
        time.sleep(0.05)
    return False


# --- a TCP forwarder ------------------------------------------------------------

class Forwarder:
    """127.0.0.1:<port> -> target_host:target_port, one selector thread.

    .stop()    close the listener and every open connection: new
               connections are refused, open ones see their peer go away
    .freeze()  a black hole: new connections are accepted (the kernel's
               backlog, then held) but never reach the target, open ones
               pass nothing either way (data is held, as a partitioned
               network holds it in retransmission, and delivered on resume)
    .resume()  back to forwarding (after stop: listens again on the same port)
    .close()   stop for good and end the thread
    Counters: .accepted (connections), .passed (bytes forwarded)."""

    BUF = 1 << 16

    def __init__(self, target_host, target_port, port=None, ports=None):
        self.target = (target_host, target_port)
        self.port = port if port is not None else (ports.take() if ports else 0)
        self.sel = selectors.DefaultSelector()
        self.lock = threading.Lock()
        self.wake_r, self.wake_w = socket.socketpair()
        self.wake_r.setblocking(False)
        self.sel.register(self.wake_r, selectors.EVENT_READ, ("wake", None))
        self.listener = None
        self.state = "running"          # running | frozen | stopped | closed
        self.conns = []                 # [client, upstream-or-None, buf c->u, buf u->c]
        self.accepted = 0
        self.passed = 0
        self._listen()
        self.thread = threading.Thread(target=self._run, daemon=True, name=f"fwd-{self.port}")
        self.thread.start()

    # control (any thread)

    def _listen(self):
        ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind(("127.0.0.1", self.port))
        ls.listen(128)
        ls.setblocking(False)
        self.port = ls.getsockname()[1]
        self.listener = ls

    def _set(self, state):
        with self.lock:
            self.state = state
        self._wake()

    def _wake(self):
        try:
            self.wake_w.send(b"x")
        except OSError:
            pass

    def _wait_applied(self, check, what):
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            with self.lock:
                if check():
                    return
            time.sleep(0.005)
        raise AssertionError(f"forwarder {self.port}: {what} not applied within 5 s")

    def stop(self):
        self._set("stopped")
        self._wait_applied(lambda: self.listener is None and not self.conns, "stop")

    def freeze(self):
        self._set("frozen")
        self._wait_applied(lambda: self.applied == "frozen", "freeze")

    def resume(self):
        self._set("running")
        self._wait_applied(lambda: self.applied == "running" and self.listener is not None, "resume")

    def close(self):
        if self.state == "closed":
            return
        self._set("closed")
        self.thread.join(10)
        self.wake_r.close()
        self.wake_w.close()

    @property
    def address(self):
        return f"127.0.0.1:{self.port}"

    # the loop (its own thread)

    applied = "running"

    def _close_conn(self, c):
        for s in c[:2]:
            if s is None:
                continue
            try:
                self.sel.unregister(s)
            except (KeyError, ValueError):
                pass
            try:
                s.close()
            except OSError:
                pass
        if c in self.conns:
            self.conns.remove(c)

    def _open_upstream(self, c):
        try:
            up = socket.create_connection(self.target, timeout=2)
        except OSError:
            self._close_conn(c)     # target down: the client sees its peer go away
            return
        up.setblocking(False)
        c[1] = up

    def _apply(self, state):
        """Brings listener/registrations in line with state (under lock)."""
        if state in ("stopped", "closed"):
            if self.listener is not None:
                try:
                    self.sel.unregister(self.listener)
                except (KeyError, ValueError):
                    pass
                self.listener.close()
                self.listener = None
            for c in list(self.conns):
                # RST, not FIN: a refused/broken path, like a dead host's.
                try:
                    c[0].setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                except OSError:
                    pass
                self._close_conn(c)
        elif self.listener is None:
            self._listen()
        if state == "running":
            for c in list(self.conns):
                if c[1] is None:
                    self._open_upstream(c)
        self._register_all(state)
        self.applied = state

    def _register_all(self, state):
        if self.listener is not None:
            try:
                self.sel.get_key(self.listener)
            except KeyError:
                self.sel.register(self.listener, selectors.EVENT_READ, ("listen", None))
        for c in self.conns:
            for k in (0, 1):
                s = c[k]
                if s is None:
                    continue
                ev = 0
                if state == "running":
                    # Read a side only while what it sent has room to wait;
                    # watch for writability while data waits for it.
                    if len(c[2 + k]) < self.BUF:
                        ev |= selectors.EVENT_READ
                    if c[3 - k]:
                        ev |= selectors.EVENT_WRITE
                try:
                    self.sel.get_key(s)
                    if ev:
                        self.sel.modify(s, ev, ("conn", c))
                    else:
                        self.sel.unregister(s)
                except KeyError:
                    if ev:
                        self.sel.register(s, ev, ("conn", c))

    def _run(self):
        while True:
            with self.lock:
                state = self.state
                if state != self.applied or state == "closed":
                    self._apply(state)
                if state == "closed":
                    self.sel.close()
                    return
                self._register_all(state)
            for key, mask in self.sel.select(0.2):
                kind, c = key.data
                if kind == "wake":
                    try:
                        self.wake_r.recv(4096)
                    except OSError:
                        pass
                    continue
                with self.lock:
                    if self.state != self.applied:
                        break
                    if kind == "listen":
                        self._accept()
                    elif c in self.conns:
                        self._pump(c, key.fileobj, mask)

    def _accept(self):
        while True:
            try:
                cs, _ = self.listener.accept()
            except (BlockingIOError, OSError):
                return
            cs.setblocking(False)
            self.accepted += 1
            c = [cs, None, bytearray(), bytearray()]
            self.conns.append(c)
            if self.state == "running":
                self._open_upstream(c)

    def _pump(self, c, s, mask):
        """c[2] holds what the client sent for upstream, c[3] what upstream
        sent for the client."""
        k = 0 if s is c[0] else 1
        if mask & selectors.EVENT_READ:
            try:
                data = s.recv(self.BUF)
            except BlockingIOError:
                data = None
            except OSError:
                data = b""
            if data == b"":
                self._close_conn(c)
                return
            if data:
                c[2 + k] += data
        for src in (0, 1):
            buf, dst = c[2 + src], c[1 - src]
            if not buf or dst is None:
                continue
            try:
                n = dst.send(buf)
            except BlockingIOError:
                n = 0
            except OSError:
                self._close_conn(c)
                return
            self.passed += n
            del buf[:n]


# --- the MariaDB pair ---------------------------------------------------------------

SERVER_IDS = {1: 88, 2: 89}
# The hosts of conftest's BASE_INI on each server of the pair.
SERVER_HOSTS = {1: ("hostM1", "hostS2"), 2: ("hostM2", "hostS1")}


def coord_pair_fixture():
    """Body of a module's pair fixture: a pair of its own (tests kill its
    servers), env COORD_PAIR_DIR/_PORT1/_PORT2 override run/coord-pair on
    25007/25008; stopped when the module ends."""
    yield from killable_pair("COORD", "coord-pair", 25007, 25008)



def server_port(pair, n):
    return pair.port1 if n == 1 else pair.port2


def kill_server(pair, n, sig=signal.SIGKILL):
    """kill -9 (or another signal) server n; with SIGKILL waits until its
    port is closed, so what follows sees a dead server."""
    pid = server_pid(pair, n)
    assert pid, f"server s{n} has no pid file"
    os.kill(pid, sig)
    if sig == signal.SIGKILL:
        assert wait_closed(server_port(pair, n), 15), f"s{n} still listens after kill -9"


def cont_server(pair, n):
    pid = server_pid(pair, n)
    if pid:
        try:
            os.kill(pid, signal.SIGCONT)
        except OSError:
            pass


def restore_pair(pair, reset_read_only=True):
    """Both servers running (a killed one restarted by pair.sh start, which
    waits for both replication threads), each having applied the other's
    writes, and (reset_read_only) read_only OFF on both (a fencing test may
    have set it)."""
    for n in (1, 2):
        cont_server(pair, n)
    r = pair.sh("start")
    assert r.returncode == 0, r.stdout + r.stderr
    if reset_read_only:
        for n in (1, 2):
            sql_on(pair, n, "SET GLOBAL read_only = OFF", db=None)
    sync_pair(pair)


def sql_on(pair, n, sql, args=None, db=DATABASE):
    """A statement (or a list of them, on one connection) as root on server
    n directly; the (last one's) rows."""
    import pymysql
    c = pymysql.connect(host=pair.host, port=server_port(pair, n), user=pair.root_user,
                        password=pair.root_password, database=db, connect_timeout=5,
                        read_timeout=20, write_timeout=20, autocommit=True)
    try:
        with c.cursor() as cur:
            for one in ([sql] if isinstance(sql, str) else sql):
                cur.execute(one, args)
            return cur.fetchall()
    finally:
        c.close()


def make_table(pair, name):
    """A fresh write-load table on both servers (created on s1, replicated)."""
    sql_on(pair, 1, f"DROP TABLE IF EXISTS `{name}`")
    sql_on(pair, 1, f"CREATE TABLE `{name}` (id BIGINT PRIMARY KEY, sid INT NOT NULL, "
                    f"inst VARCHAR(64) NOT NULL, at TIMESTAMP(6) DEFAULT CURRENT_TIMESTAMP(6))")
    sync_pair(pair)
    return name


def rows_on(pair, n, table):
    """{id: sid} of the rows of table on server n."""
    return {i: s for i, s in sql_on(pair, n, f"SELECT id, sid FROM `{table}`")}


# --- manx instances -------------------------------------------------------------------

def etcd_extra(etcd_endpoints, cluster, name, **more):
    """[manx] keys of an instance with coordination = etcd (coord-spec.md)."""
    d = {"coordination": "etcd", "etcd_endpoints": etcd_endpoints, "cluster_name": cluster,
         "instance_name": name, "etcd_lease_ttl": f"{LEASE_TTL_S}s", "etcd_timeout": f"{ETCD_TIMEOUT_S}s"}
    d.update(more)
    return d


def set_host_address(text, host, address):
    """The config text with `address` of [host NAME] replaced."""
    pat = re.compile(r"(\[host " + re.escape(host) + r"\]\naddress = )\S+")
    out, n = pat.subn(lambda m: m.group(1) + address, text)
    assert n == 1, f"no [host {host}] section with an address line"
    return out


class Cluster:
    """N manx instances over one pair (the `manx_cluster` fixture's object).

    add(name, manx_extra, datahost_extra, hosts={host: "ip:port"}, metrics=False,
        start=True) -> a conftest Manx with .name (and .metrics_port)
    Each instance: own listen/admin (/metrics) ports from `ports`, own tmp
    dir and state_dir, the [admin] console user, log_level info, the
    HEARTBEAT settings unless datahost_extra overrides them.
    kill(m): kill -9 (teardown then does not expect exit 0)."""

    def __init__(self, pair, tmp_path, ports):
        self.pair, self.tmp_path, self.ports = pair, tmp_path, ports
        self.all = []

    def add(self, name, manx_extra=None, datahost_extra=None, hosts=None, metrics=False,
            start=True):
        tmp = self.tmp_path / f"manx-{name}"
        tmp.mkdir()
        port, aport = self.ports.take(), self.ports.take()
        extra = {"log_level": "info"}
        mport = None
        if metrics:
            mport = self.ports.take()
            extra["metrics_listen"] = f"127.0.0.1:{mport}"
        extra.update(manx_extra or {})
        dh = dict(HEARTBEAT)
        dh.update(datahost_extra or {})
        text = render_config(self.pair, tmp, port, aport, manx_extra=extra, datahost_extra=dh,
                             users_extra=ADMIN_USER)
        for host, address in (hosts or {}).items():
            text = set_host_address(text, host, address)
        m = Manx(self.pair, tmp, text, port, aport)
        m.name, m.metrics_port, m.expect_exit = name, mport, 0
        self.all.append(m)
        if start:
            self.start(m)
        return m

    def start(self, m):
        try:
            m.start()
        except BaseException:
            # Reported here with its log; teardown must not report it again.
            m.expect_exit = None
            raise

    def kill(self, m):
        m.kill()
        m.expect_exit = None

    def running(self):
        return [m for m in self.all if m.running()]


def cluster_fixture(pair, tmp_path, ports):
    """Body of a `manx_cluster` fixture: yields a Cluster; at teardown every
    instance gets SIGTERM and must exit 0 (unless the test killed it) with
    no sanitizer report (conftest's own teardown checks)."""
    from conftest import _stop_manxes
    cl = Cluster(pair, tmp_path, ports)
    try:
        yield cl
    finally:
        _stop_manxes(cl.all)


# --- the console ------------------------------------------------------------------------

COORD_COLUMNS = ["INSTANCE", "DATAHOST", "MODE", "STATE", "DECIDER", "I_DECIDE", "WRITER", "WRITER_INDEX",
                 "WRITER_REV", "WRITER_VIEW", "LOST_S", "SWITCHES_APPLIED", "PROPOSALS_WON",
                 "PROPOSALS_LOST", "FENCE", "FENCE_STATE", "NOTE"]


def console_rows(m, sql, timeout=5):
    """sql on m's admin console: (columns, [row dicts of str])."""
    import pymysql
    c = pymysql.connect(host="127.0.0.1", port=m.admin_port, user="admin", password="admin",
                        connect_timeout=timeout, read_timeout=timeout, autocommit=True)
    try:
        with c.cursor() as cur:
            cur.execute(sql)
            cols = [d[0] for d in cur.description or ()]
            rows = [{k: ("" if v is None else (v.decode() if isinstance(v, bytes) else str(v)))
                     for k, v in zip(cols, r)} for r in cur.fetchall()]
        return cols, rows
    finally:
        c.close()


def coordination(m, dh="localhost1"):
    """m's `show @@coordination` row for dataHost dh (a dict of str)."""
    _, rows = console_rows(m, "show @@coordination")
    for r in rows:
        if r.get("DATAHOST") == dh:
            return r
    raise AssertionError(f"{m.name}: no show @@coordination row for {dh}: {rows}")


def datahost(m, dh="localhost1"):
    """m's `show @@datahost` row for dh."""
    _, rows = console_rows(m, "show @@datahost")
    for r in rows:
        if r.get("NAME") == dh:
            return r
    raise AssertionError(f"{m.name}: no show @@datahost row for {dh}: {rows}")


def active_writer(m, dh="localhost1"):
    return datahost(m, dh)["ACTIVE_WRITEHOST"]


def quiet(fn, *a, **kw):
    """fn(...) or None when it raises (a console that is restarting, an
    etcd that is away): for predicates polled until a deadline."""
    return attempt(fn, *a, **kw)[0]


def attempt(fn, *a, **kw):
    """(fn(...), None), or (None, "error: ...") when it raises."""
    try:
        return fn(*a, **kw), None
    except Exception as e:  # noqa: BLE001 - polled again until the deadline
        return None, f"error: {e!r}"[:300]


def wait_coord(ms, pred, timeout, what, dh="localhost1"):
    """Polls show @@coordination on every instance of ms until pred(row)
    holds for all of them; returns {name: row}.  The failure names the
    rows last seen."""
    last = {}

    def ok():
        for m in ms:
            r, err = attempt(coordination, m, dh)
            last[m.name] = r if err is None else err
            if r is None or not pred(r):
                return False
        return True

    deadline = time.monotonic() + timeout
    while not ok():
        if time.monotonic() >= deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what}; last rows:\n"
                        + "\n".join(f"  {k}: {v}" for k, v in last.items()))
        time.sleep(0.05)
    return dict(last)


def wait_writer(ms, host, timeout, dh="localhost1"):
    """Every instance's ACTIVE_WRITEHOST (show @@datahost) is host."""
    last = {}

    def ok():
        for m in ms:
            v, err = attempt(active_writer, m, dh)
            last[m.name] = v if err is None else err
        return all(v == host for v in last.values())

    deadline = time.monotonic() + timeout
    while not ok():
        if time.monotonic() >= deadline:
            pytest.fail(f"timed out after {timeout}s waiting for every instance to write to {host}: {last}")
        time.sleep(0.05)


def hold(timeout, invariant, what, step=0.1):
    """Checks invariant() (returns a failure message or None) every step for
    `timeout` seconds: for "X did not happen" over a window that covers
    the time it would have taken to happen (never a bare sleep)."""
    deadline = time.monotonic() + timeout
    while True:
        bad = invariant()
        if bad:
            pytest.fail(f"{what}: {bad}")
        if time.monotonic() >= deadline:
            return
        time.sleep(step)


def metrics(m):
    """m's /metrics as {(name, ((label, value), ...)): float}."""
    with urllib.request.urlopen(f"http://127.0.0.1:{m.metrics_port}/metrics", timeout=5) as r:
        body = r.read().decode()
    out = {}
    for line in body.splitlines():
        if not line or line.startswith("#"):
            continue
        mt = re.match(r'([A-Za-z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)', line)
        if not mt:
            continue
        labels = tuple(sorted(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', mt.group(2) or "")))
        out[(mt.group(1), labels)] = float(mt.group(3))
    return out


def metric(m, name, **labels):
    return metrics(m).get((name, tuple(sorted(labels.items()))))


# --- etcd keys of one cluster (coord-spec.md) ----------------------------------------------

class Keys:
    def __init__(self, etcd, cluster, dh="localhost1", prefix="/manx"):
        self.etcd, self.base, self.dh = etcd, f"{prefix}/{cluster}", dh

    def writer(self):
        """(value dict, mod_revision, version) of the writer key, or None."""
        return self.etcd.get_json(f"{self.base}/datahost/{self.dh}/writer")

    def decider(self):
        """The decider's instance name, or None (no decider key)."""
        kv = self.etcd.get(f"{self.base}/datahost/{self.dh}/decider")
        if kv is None:
            return None
        v = kv[0].decode(errors="replace")
        try:
            j = json.loads(v)
            return j if isinstance(j, str) else v
        except ValueError:
            return v

    def view(self, inst):
        kv = self.etcd.get_json(f"{self.base}/datahost/{self.dh}/view/{inst}")
        return kv and kv[0]

    def instance(self, inst):
        kv = self.etcd.get_json(f"{self.base}/instance/{inst}")
        return kv and kv[0]


# --- a write load ------------------------------------------------------------------------------

class WriteLoad:
    """threads_per threads per manx inserting rows with unique ids (and the
    server_id of the server that stored them) into table, each at most
    max_rows rows and `seconds` seconds; a thread reconnects after an error.
    .acked: [(id, sid, monotonic time, instance name)] of acknowledged
    inserts; .errors: [(time, instance name, message)]."""

    def __init__(self, manxes, table, threads_per=2, seconds=40, max_rows=4000, pause=0.01):
        self.table, self.seconds, self.max_rows, self.pause = table, seconds, max_rows, pause
        self.lock = threading.Lock()
        self.acked, self.errors = [], []
        self.halt = threading.Event()
        self.threads = []
        for m in manxes:
            for _ in range(threads_per):
                j = len(self.threads)
                self.threads.append(threading.Thread(target=self._run, args=(m, j), daemon=True))

    def start(self):
        for t in self.threads:
            t.start()
        return self

    def stop(self, timeout=20):
        self.halt.set()
        deadline = time.monotonic() + timeout
        for t in self.threads:
            t.join(max(0.1, deadline - time.monotonic()))
        alive = [t for t in self.threads if t.is_alive()]
        assert not alive, f"{len(alive)} load threads still running {timeout}s after stop"

    def _run(self, m, j):
        conn = None
        end = time.monotonic() + self.seconds
        i = 0
        while i < self.max_rows and time.monotonic() < end and not self.halt.is_set():
            rid = (j + 1) * 10_000_000 + i
            i += 1
            try:
                if conn is None:
                    conn = m.connect(connect_timeout=3, read_timeout=5, write_timeout=5)
                with conn.cursor() as cur:
                    cur.execute(f"INSERT INTO `{self.table}` (id, sid, inst) VALUES (%s, @@server_id, %s)",
                                (rid, m.name))
                    cur.execute(f"SELECT sid FROM `{self.table}` WHERE id = %s", (rid,))
                    row = cur.fetchone()
                with self.lock:
                    self.acked.append((rid, row[0] if row else None, time.monotonic(), m.name))
            except Exception as e:  # noqa: BLE001 - every error is data here
                with self.lock:
                    self.errors.append((time.monotonic(), m.name, str(e)))
                try:
                    if conn is not None:
                        conn.close()
                except Exception:  # noqa: BLE001
                    pass
                conn = None
                time.sleep(0.05)
            time.sleep(self.pause)
        if conn is not None:
            try:
                conn.close()
            except Exception:  # noqa: BLE001
                pass

    def snapshot(self):
        with self.lock:
            return list(self.acked)

    def count(self, after=0.0, sid=None, inst=None):
        return sum(1 for _, s, t, n in self.snapshot()
                   if t >= after and (sid is None or s == sid) and (inst is None or n == inst))

    def wait_acks(self, n, timeout, after=0.0, sid=None, inst=None, what="acknowledged inserts"):
        """Waits for n more acknowledged inserts matching the filters."""
        wait_for(lambda: self.count(after, sid, inst) >= n, timeout,
                 f"{n} {what} (sid={sid}, inst={inst}); errors: {self.errors[-3:]}")

    def missing_on(self, pair, n):
        """Acknowledged ids absent from server n (sorted)."""
        have = rows_on(pair, n, self.table)
        return sorted(rid for rid, _, _, _ in self.snapshot() if rid not in have)


# --- steps shared by the coordination tests ---------------------------------------------------

def short_name(request, n=40):
    """A short identifier of the running test (tables, cluster names)."""
    s = "".join(ch if ch.isalnum() else "_" for ch in request.node.name).strip("_")
    return s[:n]


def settle_etcd(ms, keys, timeout=20):
    """Waits until every instance of ms is SYNCED with etcd on hostM1 (the
    writer key at version 1), sees hostM1 UP, and all agree on one decider
    that holds the decider key and is the only one with I_DECIDE = 1.
    Returns the decider's name."""
    names = {m.name for m in ms}
    rows = wait_coord(ms, lambda r: r["MODE"] == "etcd" and r["STATE"] == "SYNCED" and r["WRITER"] == "hostM1"
                      and r["WRITER_INDEX"] == "0" and r["WRITER_VIEW"] == "UP" and r["DECIDER"] in names,
                      timeout, "every instance SYNCED on hostM1 with a decider")
    wait_for(lambda: keys.decider() in names, 5, "the decider key naming a live instance")

    def agreed():
        d = keys.decider()
        rs = {m.name: quiet(coordination, m) for m in ms}
        if None in rs.values():
            return None
        ok = all(r["DECIDER"] == d for r in rs.values()) and \
            [n for n, r in rs.items() if r["I_DECIDE"] == "1"] == [d]
        return d if ok else None

    d = wait_for(agreed, 10, "one decider, the same on every instance and in etcd")
    w = keys.writer()
    assert w is not None, "no writer key"
    assert w[0]["index"] == 0 and w[0]["host"] == "hostM1" and w[2] == 1, w
    wait_writer(ms, "hostM1", 5)
    assert rows
    return d


def check_one_switch(pair, ms, keys, load, t_kill, bound=12):
    """After kill -9 of hostM1 under `load`: every instance of ms writes to
    hostM2 within `bound` s, the writer key records exactly one switch,
    every instance applied exactly one, and each goes on writing through
    hostM2.  Returns the writer key (value, mod_revision, version)."""
    wait_writer(ms, "hostM2", bound)
    took = time.monotonic() - t_kill
    w = keys.writer()
    assert w is not None
    val, rev, ver = w
    assert val["host"] == "hostM2" and val["index"] == 1 and ver == 2, w
    assert val.get("epoch") == 2, w
    wait_coord(ms, lambda r: r["WRITER"] == "hostM2" and r["WRITER_INDEX"] == "1" and r["WRITER_REV"] == str(rev)
               and r["SWITCHES_APPLIED"] == "1", 5, f"every instance on hostM2 at revision {rev}")
    t_switched = time.monotonic()
    for m in ms:
        load.wait_acks(3, 10, after=t_switched, sid=SERVER_IDS[2], inst=m.name,
                       what=f"inserts through {m.name} on hostM2")
    print(f"kill -9 of hostM1: {len(ms)} instances on hostM2 after {took:.2f} s (revision {rev})")
    return w


def check_nothing_lost(pair, load, ms, keys, new=2):
    """Stops the load, restarts the killed server, lets replication catch
    up; then every acknowledged insert is on the new writer, no instance
    switched back and the writer key did not move."""
    load.stop()
    acked = load.snapshot()
    assert acked, "the load acknowledged nothing"
    on_new = rows_on(pair, new, load.table)
    late = [rid for rid, sid, _, _ in acked if sid == SERVER_IDS[new] and rid not in on_new]
    assert not late, f"{len(late)} inserts acknowledged by the new writer are not there: {late[:5]}"
    w_before = keys.writer() if keys is not None else None
    restore_pair(pair, reset_read_only=False)
    missing = load.missing_on(pair, new)
    assert not missing, f"{len(missing)} acknowledged inserts lost: {missing[:10]}"
    if keys is not None:
        # The old writer is back and UP in every view: still no switch back.
        wait_for(lambda: all((quiet(keys.view, m.name) or {}).get("hosts", {}).get("hostM1") == "UP"
                             for m in ms), 15, "hostM1 UP again in every instance's view key")
        assert keys.writer() == w_before, (keys.writer(), w_before)
    wait_writer(ms, "hostM2" if new == 2 else "hostM1", 2)
