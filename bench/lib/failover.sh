# bench/lib/failover.sh: how long writes fail behind manx when the writer
# dies. Sourced by bench/run last, with the pair running and its helpers
# defined (sql_app, bench_pair_script, bench_port_pid, write_manx_ini,
# wait_port, ...). Per case (crash: kill -9 of the writer's mariadbd; hang:
# kill -STOP, kill -CONT later) it restarts the pair to a healthy state,
# starts a fresh manx with a fresh state_dir and default heartbeat settings,
# runs bench/lib/writeloop.c against it, hits the writer at --fo-kill-at,
# then records where writes go, dnindex.properties and manx's log, and
# restarts the dead member. One row per case in $rundir/failover.tsv, read
# by bench/lib/report_failover.py.
#
# Bounds: every wait has a deadline; writeloop runs --fo-time seconds, each
# statement bounded by --fo-read-timeout; it is killed past
# fo_time + 2 x read timeout + 30 s. A stopped writer is in $fo_stopped_pid
# until it got SIGCONT, so bench/run's clean-up continues it first.

fo_port=23324 # manx's own ports for this scenario (admin 23325)

fo_sleep_until() { # $1 = epoch seconds (with fraction); interruptible sleep
  local left
  left=$(awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { d = a - b; printf "%.3f", (d > 0 ? d : 0) }')
  [ "$left" = 0.000 ] || x_sleep "$left"
}

fo_pair_healthy() { # restart whatever member is dead, wait for replication
  bench_pair_script 300 start >>"$rundir/pair.log" 2>&1 &&
    bench_pair_script 120 wait >>"$rundir/pair.log" 2>&1
}

fo_stop_manx() {
  [ -n "$fo_manx_pid" ] || return 0
  local t
  kill -TERM "$fo_manx_pid" 2>/dev/null || true
  for t in $(seq 1 40); do kill -0 "$fo_manx_pid" 2>/dev/null || break; sleep 0.25; done
  kill -KILL "$fo_manx_pid" 2>/dev/null || true
  wait "$fo_manx_pid" 2>/dev/null || true
  fo_manx_pid=
}

fo_manx_sql() { # SQL through the failover manx
  mariadb --no-defaults -h127.0.0.1 -P"$fo_port" -uroot -p123456 aiurt-platform \
    --connect-timeout=5 -N -B -e "$1"
}

# Insert one row through manx and find on the second master which server
# executed it (bench_fo.sid = @@server_id of the origin, replicated as is).
fo_probe() { # $1 = run label; prints the server_id or "error: ..."
  local out t sid
  out=$(timeout 20 mariadb --no-defaults -h127.0.0.1 -P"$fo_port" -uroot -p123456 aiurt-platform \
    --connect-timeout=5 -N -B -e \
    "INSERT INTO bench_fo (run, th, seq, sid) VALUES ('$1', 0, 0, @@server_id)" 2>&1) ||
    { echo "error: ${out//$'\n'/ }"; return 0; }
  for t in $(seq 1 40); do
    sid=$(sql_app "$PAIR_PORT2" -N -B -e "SELECT sid FROM bench_fo WHERE run = '$1' LIMIT 1" 2>/dev/null || true)
    [ -z "$sid" ] || { echo "$sid"; return 0; }
    sleep 0.25
  done
  echo "inserted, row not seen on the second master"
}

fo_wait_log() { # $1 = log file, $2 = extended regexp, $3 = seconds
  local t
  for t in $(seq 1 $(($3 * 4))); do
    grep -Eq "$2" "$1" 2>/dev/null && return 0
    sleep 0.25
  done
  return 1
}

fo_case() { # $1 = crash | hang
  local c=$1 dir=$rundir/failover-$1 label bal ini log wl out rc pid t_start t_kill t_killed t_cont
  local sid_during sid_after up_seen dn n1 n2 t
  label=${1}-${stamp//[^0-9]/}
  bal=${fo_target#manx}
  mkdir -p "$dir/state"
  log "failover $c: making the pair healthy"
  fo_pair_healthy || { log "failover $c: scripts/pair.sh start/wait failed"; notes+=("failover $c: pair not healthy, case skipped"); return 0; }
  pid=$(bench_port_pid "$PAIR_PORT1" || true)
  [ -n "$pid" ] || { notes+=("failover $c: no process listens on $PAIR_PORT1, case skipped"); return 0; }
  ini=$dir/manx.ini
  log=$dir/manx.log
  write_manx_ini "$ini" "$fo_port" "$((fo_port + 1))" "$bal" "$dir/state"
  "$manx_bin" -c "$ini" >"$log" 2>&1 &
  fo_manx_pid=$!
  if ! wait_port "$fo_port" "$fo_manx_pid" || ! fo_manx_sql "SELECT COUNT(*) FROM bench_fo" >/dev/null 2>&1; then
    tail -20 "$log" >&2
    notes+=("failover $c: manx did not start or failed its smoke query (log $log): case skipped")
    log "${notes[-1]}"
    fo_stop_manx
    return 0
  fi
  # Let the first heartbeats mark every host UP before the load starts.
  x_sleep 2
  wl=$dir/writeloop.tsv
  out=$dir/writeloop.out
  log "failover $c: $fo_threads threads writing through $fo_target for ${fo_time}s; writer (pid $pid) hit at ${fo_kill_at}s"
  t_start=$EPOCHREALTIME
  "$rundir/writeloop" 127.0.0.1 "$fo_port" root 123456 aiurt-platform "$fo_threads" "$fo_time" \
    "$wl" "$label" "$fo_select" "$fo_connect_timeout" "$fo_read_timeout" >"$out" 2>&1 &
  x_pid=$!
  fo_sleep_until "$(awk -v a="$t_start" -v k="$fo_kill_at" 'BEGIN { printf "%.6f", a + k }')"
  t_cont=
  if [ "$c" = crash ]; then
    t_kill=$EPOCHREALTIME
    kill -KILL "$pid" || true
    t_killed=$EPOCHREALTIME
  else
    fo_stopped_pid=$pid
    t_kill=$EPOCHREALTIME
    kill -STOP "$pid" || true
    t_killed=$EPOCHREALTIME
    fo_sleep_until "$(awk -v a="$t_start" -v k="$fo_cont_at" 'BEGIN { printf "%.6f", a + k }')"
    t_cont=$EPOCHREALTIME
    kill -CONT "$pid" || true
    fo_stopped_pid=
  fi
  log "failover $c: writer hit at $(awk -v a="$t_start" -v b="$t_kill" 'BEGIN { printf "%.2f", b - a }') s"
  rc=0; x_wait "$x_pid" $((fo_time + 2 * fo_read_timeout + 30)) || rc=$?
  log "failover $c: writeloop rc=$rc $(tr '\n' ' ' <"$out")"
  # Where do writes go now? For hang the old writer runs again: manx must
  # not move writes back to it.
  sid_during=$(fo_probe "$label-probe1")
  if [ "$c" = crash ]; then
    log "failover $c: restarting the killed member"
    fo_pair_healthy || notes+=("failover $c: the killed member did not come back (see $rundir/pair.log)")
  fi
  # Give manx the time to see the old writer UP again (heartbeat_rise beats),
  # then ask again.
  up_seen=0
  fo_wait_log "$log" "hostM1 .* is UP again" 15 && up_seen=1
  x_sleep 1
  sid_after=$(fo_probe "$label-probe2")
  dn=$dir/dnindex.properties
  cp "$dir/state/dnindex.properties" "$dn" 2>/dev/null || echo "(no dnindex.properties written)" >"$dn"
  fo_stop_manx
  # The rows that made it, once both servers agree (bounded): acknowledged
  # inserts that are missing were lost; failed ones that are there committed
  # although the client got an error.
  [ "$c" = crash ] || fo_pair_healthy || true
  for t in $(seq 1 60); do
    n1=$(sql_app "$PAIR_PORT1" -N -B -e "SELECT COUNT(*) FROM bench_fo WHERE run = '$label'" 2>/dev/null || true)
    n2=$(sql_app "$PAIR_PORT2" -N -B -e "SELECT COUNT(*) FROM bench_fo WHERE run = '$label'" 2>/dev/null || true)
    [ -n "$n1" ] && [ "$n1" = "$n2" ] && break
    sleep 0.5
  done
  sql_app "$PAIR_PORT2" -N -B -e "SELECT th, seq, sid FROM bench_fo WHERE run = '$label'" \
    >"$dir/rows2.tsv" 2>/dev/null || true
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$c" "$fo_target" \
    "$fo_threads" "$fo_time" "$wl" "$out" "$rc" "$t_start" "$t_kill" "$t_cont" "$dn" "$log" \
    "$sid_during" "$sid_after" "$up_seen" "${n1:-}/${n2:-}" "$dir/rows2.tsv" "$t_killed" >>"$fo_tsv"
  log "failover $c: writes after the case went to server_id $sid_during, after the old writer was back to $sid_after; dnindex: $(grep -v '^#' "$dn" | tr '\n' ' ')"
}

run_failover() {
  fo_tsv=$rundir/failover.tsv
  printf 'case\ttarget\tthreads\tsecs\twl\tout\trc\tt_start\tt_kill\tt_cont\tdnindex\tlog\tsid_during\tsid_after\tup_seen\trows_s1_s2\trows\tt_killed\n' >"$fo_tsv"
  if [ "$pair_mode" != script ] || [ -z "$manx_bin" ]; then
    notes+=("failover needs scripts/pair.sh and a manx binary: skipped")
    log "${notes[-1]}"; return 0
  fi
  # Alone on the machine: the other targets (if any) would react to the
  # dead writer too.
  local pid
  for pid in "${started_pids[@]:+${started_pids[@]}}"; do kill -TERM "$pid" 2>/dev/null || true; done
  sql_app "$PAIR_PORT1" -e "DROP TABLE IF EXISTS bench_fo; CREATE TABLE bench_fo (
      id BIGINT AUTO_INCREMENT PRIMARY KEY, run VARCHAR(40) NOT NULL, th INT NOT NULL,
      seq BIGINT NOT NULL, sid INT, ts TIMESTAMP(6) DEFAULT CURRENT_TIMESTAMP(6), KEY (run))" ||
    { notes+=("failover: could not create bench_fo"); return 0; }
  local t
  for t in $(seq 1 60); do
    sql_app "$PAIR_PORT2" -N -e "SELECT 1 FROM bench_fo LIMIT 1" >/dev/null 2>&1 && break
    sleep 0.5
  done
  local c
  for c in ${fo_cases//,/ }; do fo_case "$c"; done
  fo_pair_healthy || notes+=("failover: the pair is not healthy at the end (see $rundir/pair.log)")
}

run_failover
