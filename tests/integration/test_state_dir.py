"""state_dir must be usable, because dnindex.properties is what makes a
switch-over outlive a restart (issue 8): manx refuses to start when it cannot
create or write the directory, and when writing the file fails at run time it
logs an error each time and the console's show @@datahost says the switch is
not persisted, until a retry succeeds.

Tests run as root, so permissions cannot make a directory unwritable: the
directory (or its parent) is replaced by a plain file instead."""

import subprocess

import pymysql
import pytest

from conftest import manx_bin, poll

pytestmark = pytest.mark.manx_only

ADMIN = "\n[admin]\nuser = admin\npassword = admin\n"


def run_manx(m, timeout=20):
    """Run manx on m's config to its exit; returns (exit code, output)."""
    r = subprocess.run([manx_bin(), "-c", str(m.config)], stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=timeout, cwd=str(m.tmp))
    return r.returncode, r.stdout + r.stderr


def admin(m):
    return pymysql.connect(host="127.0.0.1", port=m.admin_port, user="admin", password="admin",
                           connect_timeout=5, read_timeout=10, autocommit=True)


def datahost_row(c):
    with c.cursor() as cur:
        cur.execute("show @@datahost")
        cols = [d[0] for d in cur.description]
        return dict(zip(cols, cur.fetchone()))



@pytest.mark.parametrize("layout", ["parent_is_a_file", "dir_is_a_file"])
def test_unusable_state_dir_refuses_to_start(manx, tmp_path, layout):
    blocker = tmp_path / "blocker"
    blocker.write_text("not a directory\n")
    state = blocker / "state" if layout == "parent_is_a_file" else blocker
    m = manx(manx_extra={"state_dir": str(state)}, start=False)
    rc, out = run_manx(m)
    assert rc != 0, out
    assert str(state) in out and "Not a directory" in out, out
    assert "AddressSanitizer" not in out and "runtime error" not in out, out


def test_state_dir_is_created(manx, tmp_path):
    state = tmp_path / "new" / "deeper" / "state"
    m = manx(manx_extra={"state_dir": str(state)})
    assert state.is_dir()
    assert list(state.iterdir()) == []      # the write probe leaves nothing behind
    assert m.running()


def test_switch_not_persisted_is_shown_and_retried(manx):
    m = manx(users_extra=ADMIN)
    state = m.tmp / "state"
    dnindex = state / "dnindex.properties"
    c = admin(m)
    assert datahost_row(c)["PERSISTED"] == "yes"
    with c.cursor() as cur:
        cur.execute("switch @@datasource localhost1:1")
    assert poll(lambda: dnindex.exists() and "localhost1=1" in dnindex.read_text(), 5)
    assert poll(lambda: datahost_row(c)["PERSISTED"] == "yes", 5)

    # The directory goes away behind manx's back and a file takes its place.
    moved = m.tmp / "state.moved"
    state.rename(moved)
    state.write_text("in the way\n")
    with c.cursor() as cur:
        cur.execute("switch @@datasource localhost1:0")
    assert poll(lambda: datahost_row(c)["PERSISTED"].startswith("no"), 5)
    row = datahost_row(c)
    assert row["ACTIVE_INDEX"] == "0" and "Not a directory" in row["PERSISTED"], row
    assert "index 1" in row["PERSISTED"], row          # what a restart would use
    assert "dnindex.properties: cannot write: Not a directory" in m.log()
    # Writes go where the console sent them.
    cl = m.connect()
    with cl.cursor() as cur:
        cur.execute("SELECT @@server_id")
        assert cur.fetchone() == (88,)
    cl.close()

    # While the switch is not persisted a restart must not silently undo it:
    # a second manx on the same state_dir refuses to start.
    rc, out = run_manx(m)
    assert rc != 0 and str(state) in out, out

    # Failures are retried (and logged each time); once the directory is
    # back the file catches up without another switch.
    assert poll(lambda: m.log().count("cannot write: Not a directory") >= 2, 15)
    state.unlink()
    moved.rename(state)
    assert poll(lambda: "localhost1=0" in dnindex.read_text(), 15), m.log()[-2000:]
    assert poll(lambda: datahost_row(c)["PERSISTED"] == "yes", 5)
    c.close()
