"""Fixtures for the coordination tests (issue 13; names from
/work/notes/coord-spec.md): a real etcd from Debian's etcd-server (one
member or a three-member cluster on loopback ports of the test's own), a
TCP forwarder a test can stop or turn into a black hole, N manx instances
in front of one MariaDB pair, console readers and a write load that
records which inserts were acknowledged.

Imported by test_coord_*.py and test_coordfix.py; conftest.py is unchanged
apart from nothing (everything here builds on its Manx, render_config,
own_pair, poll and wait_for).

Ports: every port comes from a PortRange (default 25000-25999, a range
no other test uses; env COORD_PORT_BASE/COORD_PORT_END move it), never
2379/2380 (the Debian package's own etcd service may listen there).
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

from conftest import DATABASE, Manx, own_pair, render_config, sync_pair, wait_for, wait_port

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
        self.dir = Path(tempfile.mkdtemp(prefix="etcd-coord-"))
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
