# bench/lib/pair.sh: the MariaDB dual-master pair that bench/run measures.
# Sourced by bench/run. When scripts/pair.sh exists it is used; otherwise a
# small pair of our own is made here (mariadb-install-db + mariadbd on
# loopback), so the bench does not depend on the test fixtures being done.
# Both ways give: writer 127.0.0.1:$PAIR_PORT1, second master $PAIR_PORT2,
# user app/app123 with all rights on aiurt_platform, replication both ways.

# Fallback pair, one instance. $1 = index (1|2), $2 = port, $3 = peer port.
bench_pair_init_one() {
  local i=$1 port=$2 dir=$PAIR_DIR/m$1
  mkdir -p "$dir"
  cat >"$dir/my.cnf" <<EOF
[mariadbd]
datadir = $dir/data
socket = $dir/mysqld.sock
pid-file = $dir/mysqld.pid
log-error = $dir/error.log
port = $port
bind-address = 127.0.0.1
skip-name-resolve
skip-networking = 0
server-id = $i
log-bin = $dir/data/mysql-bin
log-slave-updates = 1
binlog-format = ROW
gtid-domain-id = $i
auto-increment-increment = 2
auto-increment-offset = $i
innodb-buffer-pool-size = 128M
innodb-log-file-size = 64M
innodb-flush-log-at-trx-commit = 2
sync-binlog = 0
max-connections = 500
performance-schema = 0
EOF
  if [ ! -d "$dir/data/mysql" ]; then
    mariadb-install-db --defaults-file="$dir/my.cnf" --user=root \
      --auth-root-authentication-method=socket --skip-test-db \
      >"$dir/install.log" 2>&1 || { cat "$dir/install.log" >&2; return 1; }
  fi
}

bench_pair_sql() { # $1 = index, rest = mariadb args
  local i=$1; shift
  mariadb --no-defaults --socket="$PAIR_DIR/m$i/mysqld.sock" -uroot "$@"
}

bench_pair_fallback_start() {
  local i port other t
  bench_pair_init_one 1 "$PAIR_PORT1" || return 1
  bench_pair_init_one 2 "$PAIR_PORT2" || return 1
  for i in 1 2; do
    mariadbd --defaults-file="$PAIR_DIR/m$i/my.cnf" --user=root \
      >>"$PAIR_DIR/m$i/stdout.log" 2>&1 &
    echo $! >"$PAIR_DIR/m$i/bench.pid"
  done
  for i in 1 2; do
    for t in $(seq 1 120); do
      bench_pair_sql "$i" -e 'select 1' >/dev/null 2>&1 && break
      kill -0 "$(cat "$PAIR_DIR/m$i/bench.pid")" 2>/dev/null ||
        { tail -20 "$PAIR_DIR/m$i/error.log" >&2; return 1; }
      sleep 0.5
    done
    bench_pair_sql "$i" -e 'select 1' >/dev/null 2>&1 ||
      { echo "bench: mariadbd m$i did not come up" >&2; return 1; }
  done
  [ -f "$PAIR_DIR/configured" ] && return 0
  # Users and the schema are made on each side with the binlog off, then
  # each side replicates from the other from its current GTID position.
  for i in 1 2; do
    bench_pair_sql "$i" <<'EOF' || return 1
SET sql_log_bin = 0;
CREATE DATABASE IF NOT EXISTS aiurt_platform;
CREATE USER IF NOT EXISTS 'app'@'127.0.0.1' IDENTIFIED BY 'app123';
CREATE USER IF NOT EXISTS 'app'@'localhost' IDENTIFIED BY 'app123';
GRANT ALL ON aiurt_platform.* TO 'app'@'127.0.0.1';
GRANT ALL ON aiurt_platform.* TO 'app'@'localhost';
CREATE USER IF NOT EXISTS 'repl'@'127.0.0.1' IDENTIFIED BY 'repl123';
GRANT REPLICATION SLAVE ON *.* TO 'repl'@'127.0.0.1';
GRANT SELECT ON *.* TO 'app'@'127.0.0.1';
EOF
  done
  for i in 1 2; do
    if [ "$i" = 1 ]; then other=$PAIR_PORT2; else other=$PAIR_PORT1; fi
    bench_pair_sql "$i" <<EOF || return 1
STOP SLAVE;
CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=$other,
  MASTER_USER='repl', MASTER_PASSWORD='repl123', MASTER_USE_GTID=current_pos,
  MASTER_CONNECT_RETRY=1;
START SLAVE;
EOF
  done
  touch "$PAIR_DIR/configured"
}

# Stops the servers of either pair by their pid files: ours (m1, m2) and
# scripts/pair.sh's (s1, s2), in case its own stop did not finish.
bench_pair_fallback_stop() {
  local f pid t
  for f in "$PAIR_DIR"/m[12]/bench.pid "$PAIR_DIR"/s[12]/mysqld.pid; do
    [ -s "$f" ] || continue
    pid=$(cat "$f")
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null
      for t in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
      kill -KILL "$pid" 2>/dev/null
    fi
    rm -f "$f"
  done
}

# The pid of the mariadbd listening on a port, for CPU accounting. Works for
# either way of starting the pair (the process is found by its socket).
bench_port_pid() {
  local port=$1 inode
  inode=$(awk -v p="$(printf '%04X' "$port")" \
    '$4 == "0A" && split($2, a, ":") && a[2] == p { print $10; exit }' \
    /proc/net/tcp /proc/net/tcp6 2>/dev/null)
  [ -n "$inode" ] || return 1
  local fd
  for fd in /proc/[0-9]*/fd/*; do
    if [ "$(readlink "$fd" 2>/dev/null)" = "socket:[$inode]" ]; then
      fd=${fd#/proc/}; echo "${fd%%/*}"; return 0
    fi
  done
  return 1
}
