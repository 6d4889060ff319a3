"""sysbench oltp_read_write through manx with its default prepared
statements must finish without a single error.

"Ignored errors" are the exception: oltp_read_write with 4 threads on
2 x 1000 rows produces genuine InnoDB deadlocks (1213) even straight against
MariaDB, and sysbench retries them.  They are accepted when every one is a
deadlock or lock wait timeout and they stay rare; any other error fails."""

import re
import shutil
import subprocess

import pytest


def _sysbench(m, cmd, timeout, extra=()):
    u, p = m.creds("root")
    args = ["sysbench", "oltp_read_write", "--mysql-host=127.0.0.1", f"--mysql-port={m.port}",
            f"--mysql-user={u}", f"--mysql-password={p}", f"--mysql-db={m.db}",
            "--tables=2", "--table-size=1000", "--threads=4", "--time=10",
            "--db-driver=mysql", "--report-interval=0", *extra, cmd]
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout)


@pytest.mark.skipif(shutil.which("sysbench") is None, reason="sysbench not installed")
def test_sysbench_oltp_read_write(manx):
    m = manx()
    _sysbench(m, "cleanup", 60)
    try:
        r = _sysbench(m, "prepare", 120)
        assert r.returncode == 0, r.stdout + r.stderr
        assert "FATAL" not in r.stdout + r.stderr
        # verbosity 5 makes sysbench name each error it ignores.
        r = _sysbench(m, "run", 90, ["--verbosity=5"])
        out = r.stdout + r.stderr
        assert r.returncode == 0, out
        assert "FATAL" not in out, out
        ign = re.search(r"^\s*ignored errors:\s+(\d+)", out, re.M)
        trx = re.search(r"^\s*transactions:\s+(\d+)", out, re.M)
        assert ign and trx, out
        transactions, ignored = int(trx.group(1)), int(ign.group(1))
        assert transactions > 0, out
        kinds = re.findall(r"Ignoring error (\d+)", out)
        assert set(kinds) <= {"1213", "1205"}, out
        assert ignored <= max(5, transactions // 50), out
    finally:
        r = _sysbench(m, "cleanup", 60)
        assert r.returncode == 0, r.stdout + r.stderr
