# bench/lib/extra.sh: the scenarios that are not sysbench: idle_conns, churn
# and stream. Sourced by bench/run after the sysbench runs, with the targets
# running and its helpers defined (cpu_ticks, hwm_kb, reset_hwm, sql_app, ...).
# The clients are bench/lib/{holdconns,churn,streamread}.c, built into the
# run directory. Every client is bounded by its own arguments and waited for
# with a deadline here; $x_pid names the one running, for bench/run's
# clean-up. Each scenario writes one TSV that bench/lib/report.py reads.

rss_kb() { # VmRSS of a process, or empty
  [ -n "${1:-}" ] && [ -r "/proc/$1/status" ] || return 0
  awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"
}

# x_sleep and x_wait are defined in bench/run.

x_alive_check() { # $1 target: 0 if its process is still there
  local pid=${t_pid[$1]:-}
  [ "${t_kind[$1]}" != proxy ] || [ -z "$pid" ] || kill -0 "$pid" 2>/dev/null
}

db_query() { sql_app "$PAIR_PORT1" -N -B -e "$1" 2>/dev/null; }

# ---------------------------------------------------------------- idle_conns
# direct and haproxy need one MariaDB connection per client connection: the
# writer's max_connections is raised for this scenario (restored afterwards)
# as far as its open_files_limit allows; a count beyond that is cut down for
# those targets and said so in the notes.
db_room=
idle_db_prepare() {
  local cur files conn want cap
  read -r cur files < <(db_query "select @@max_connections, @@open_files_limit") || true
  conn=$(db_query "select count(*) from information_schema.processlist" || true)
  if [ -z "$cur" ] || [ -z "$files" ] || [ -z "$conn" ]; then
    notes+=("idle_conns: could not read the writer's max_connections; direct/haproxy limited to 100")
    log "${notes[-1]}"; db_room=100; return
  fi
  want=$((idle_max + conn + 100))
  cap=$((files - 500))
  [ "$want" -le "$cap" ] || want=$cap
  if [ "$want" -gt "$cur" ]; then
    if db_query "SET GLOBAL max_connections = $want" >/dev/null; then
      db_max_conn_orig=$cur
      log "idle_conns: writer max_connections $cur -> $want (open_files_limit $files)"
      cur=$want
    fi
  fi
  db_room=$((cur - conn - 50))
  if [ "$db_room" -lt "$idle_max" ]; then
    notes+=("idle_conns: the writer allows $cur connections (open_files_limit $files): direct and haproxy hold at most $db_room")
    log "${notes[-1]}"
  fi
}
idle_db_restore() {
  [ -n "$db_max_conn_orig" ] || return 0
  db_query "SET GLOBAL max_connections = $db_max_conn_orig" >/dev/null || true
  db_max_conn_orig=
}
idle_db_drain() { # wait (up to 30 s) until the writer's connections are back near $1
  local t c
  for t in $(seq 1 60); do
    c=$(db_query "select count(*) from information_schema.processlist" || true)
    [ -n "$c" ] && [ "$c" -le $(($1 + 20)) ] && return 0
    sleep 0.5
  done
}

idle_one() { # $1 target, $2 N
  local name=$1 n=$2 pid=${t_pid[$1]:-} neff=$2 why= out rc=0 t budget
  case $name in
    direct) [ "$neff" -le "$db_room" ] || { neff=$db_room; why="writer max_connections"; } ;;
    haproxy|haproxy2)
      [ "$neff" -le "$db_room" ] || { neff=$db_room; why="writer max_connections"; }
      [ "$neff" -le $((haproxy_maxconn - 10)) ] ||
        { neff=$((haproxy_maxconn - 10)); why="haproxy maxconn $haproxy_maxconn (fd limit $fd_limit, 2 fds per connection)"; } ;;
  esac
  out=$rundir/logs/idle_conns-n$n-$name.out
  if ! x_alive_check "$name"; then
    echo "bench: $name (pid $pid) is no longer running" >"$out"
    printf '%s\t%s\t%s\t%s\t255\t%s\t\t\t\t\t\t%s\t%s\t%s\n' "$n" "$name" "${t_kind[$name]}" \
      "$neff" "$out" "$idle_secs" "$clk_tck" "$why" >>"$idle_tsv"
    return
  fi
  [ "$neff" -ge 1 ] || { log "idle_conns: $name has no room for connections"; return; }
  local base
  base=$(db_query "select count(*) from information_schema.processlist" || echo 0)
  budget=$((neff / 100 + 30))
  reset_hwm "$pid"
  local rss0 rss1 rss2 hwm c0 c1
  rss0=$(rss_kb "$pid")
  "$rundir/holdconns" 127.0.0.1 "${t_port[$name]}" "${t_user[$name]}" "${t_pass[$name]}" \
    "${t_db[$name]}" "$neff" "$((budget + idle_secs + 60))" "$budget" >"$out" 2>&1 &
  x_pid=$!
  for t in $(seq 1 $(((budget + 15) * 4))); do
    grep -q '^connected ' "$out" 2>/dev/null && break
    kill -0 "$x_pid" 2>/dev/null || break
    sleep 0.25
  done
  x_sleep 2 # let the target settle after the last login
  rss1=$(rss_kb "$pid")
  c0=$(cpu_ticks "$pid")
  x_sleep "$idle_secs"
  c1=$(cpu_ticks "$pid")
  rss2=$(rss_kb "$pid")
  hwm=$(hwm_kb "$pid")
  # SIGUSR1: ping every connection, close them all, exit.
  kill -USR1 "$x_pid" 2>/dev/null || true
  x_wait "$x_pid" $((neff / 500 + 30)) || rc=$?
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$n" "$name" \
    "${t_kind[$name]}" "$neff" "$rc" "$out" "$rss0" "$rss1" "$rss2" "$hwm" "$(d "$c0" "$c1")" \
    "$idle_secs" "$clk_tck" "$why" >>"$idle_tsv"
  log "idle_conns n=$n $name: $(grep -h '^connected\|^alive' "$out" | tr '\n' ' ')rss ${rss0:-?} -> ${rss2:-?} kB rc=$rc"
  case $name in direct|haproxy|haproxy2) idle_db_drain "$base" ;; esac
}

run_idle_conns() {
  idle_tsv=$rundir/idle_conns.tsv
  printf 'n\ttarget\tkind\tn_eff\trc\tout\trss0_kb\trss1_kb\trss2_kb\thwm_kb\tidle_ticks\tidle_secs\tclk_tck\tlimited_by\n' >"$idle_tsv"
  db_room=$idle_max
  local name n
  for name in "${active[@]}"; do
    case $name in direct|haproxy|haproxy2) idle_db_prepare; break ;; esac
  done
  log "idle_conns: ${idle_list//,/ } connections per target, ${idle_secs}s idle, fd limit $fd_limit"
  for n in ${idle_list//,/ }; do
    for name in "${active[@]}"; do idle_one "$name" "$n"; done
  done
  idle_db_restore
}

# ---------------------------------------------------------------- churn
run_churn() {
  local tsv=$rundir/churn.tsv rep name pid out rc p0 p1 a0 a1 b0 b1 hwm round=0
  printf 'round\trep\ttarget\tkind\trc\tout\tproxy_ticks\tdb1_ticks\tdb2_ticks\thwm_kb\tclk_tck\tthreads\tsecs\n' >"$tsv"
  log "churn: $reps x ${churn_time}s per target, $churn_threads threads, targets alternating"
  for rep in $(seq 1 "$reps"); do
    round=$((round + 1))
    for name in "${active[@]}"; do
      pid=${t_pid[$name]:-}
      out=$rundir/logs/churn-$name-r$rep.out
      if ! x_alive_check "$name"; then
        echo "bench: $name (pid $pid) is no longer running" >"$out"
        printf '%s\t%s\t%s\t%s\t255\t%s\t\t\t\t\t%s\t%s\t%s\n' "$round" "$rep" "$name" \
          "${t_kind[$name]}" "$out" "$clk_tck" "$churn_threads" "$churn_time" >>"$tsv"
        continue
      fi
      reset_hwm "$pid"
      p0=$(cpu_ticks "$pid"); a0=$(cpu_ticks "$db1_pid"); b0=$(cpu_ticks "$db2_pid")
      "$rundir/churn" 127.0.0.1 "${t_port[$name]}" "${t_user[$name]}" "${t_pass[$name]}" \
        "${t_db[$name]}" "$churn_threads" "$churn_time" >"$out" 2>&1 &
      x_pid=$!
      rc=0; x_wait "$x_pid" $((churn_time + 30)) || rc=$?
      p1=$(cpu_ticks "$pid"); a1=$(cpu_ticks "$db1_pid"); b1=$(cpu_ticks "$db2_pid")
      hwm=$(hwm_kb "$pid")
      printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$rep" "$name" \
        "${t_kind[$name]}" "$rc" "$out" "$(d "$p0" "$p1")" "$(d "$a0" "$a1")" "$(d "$b0" "$b1")" \
        "$hwm" "$clk_tck" "$churn_threads" "$churn_time" >>"$tsv"
      log "churn r$rep $name rc=$rc $(grep -h '^cycles' "$out" || true)"
      # Let TIME_WAIT sockets and the server's threads settle between targets.
      sleep 1
    done
  done
}

# ---------------------------------------------------------------- stream
run_stream() {
  local tsv=$rundir/stream.tsv name pid out smp rc rss0 hwm c0 c1 t0 limit now rows
  rows=$((stream_mb * 1024))
  limit=$((stream_secs * 3 + 60))
  printf 'target\tkind\trc\tout\tsamples\trss0_kb\thwm_kb\tticks\tclk_tck\tmb\tsecs\n' >"$tsv"
  log "stream: $stream_mb MiB ($rows rows of 1024 bytes) read in ~${stream_secs}s per target"
  for name in "${active[@]}"; do
    pid=${t_pid[$name]:-}
    out=$rundir/logs/stream-$name.out
    smp=$rundir/logs/stream-$name.rss
    if ! x_alive_check "$name"; then
      echo "bench: $name (pid $pid) is no longer running" >"$out"
      printf '%s\t%s\t255\t%s\t%s\t\t\t\t%s\t%s\t%s\n' "$name" "${t_kind[$name]}" "$out" "$smp" \
        "$clk_tck" "$stream_mb" "$stream_secs" >>"$tsv"
      continue
    fi
    reset_hwm "$pid"
    rss0=$(rss_kb "$pid")
    c0=$(cpu_ticks "$pid")
    "$rundir/streamread" 127.0.0.1 "${t_port[$name]}" "${t_user[$name]}" "${t_pass[$name]}" \
      "${t_db[$name]}" "$rows" 1024 "$stream_secs" "$((limit - 10))" >"$out" 2>&1 &
    x_pid=$!
    # VmRSS every 0.5 s while the client reads: "seconds kB".
    t0=$EPOCHREALTIME
    : >"$smp"
    while kill -0 "$x_pid" 2>/dev/null; do
      now=$EPOCHREALTIME
      printf '%s %s\n' "$(awk -v a="$t0" -v b="$now" 'BEGIN { printf "%.2f", b - a }')" \
        "$(rss_kb "$pid")" >>"$smp"
      awk -v a="$t0" -v b="$now" -v l="$limit" 'BEGIN { exit !(b - a > l) }' && break
      sleep 0.5
    done
    rc=0; x_wait "$x_pid" 5 || rc=$?
    c1=$(cpu_ticks "$pid")
    hwm=$(hwm_kb "$pid")
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "${t_kind[$name]}" "$rc" \
      "$out" "$smp" "$rss0" "$hwm" "$(d "$c0" "$c1")" "$clk_tck" "$stream_mb" "$stream_secs" >>"$tsv"
    log "stream $name rc=$rc $(cat "$out") peak RSS $(awk 'BEGIN { m = 0 } $2 > m { m = $2 } END { print m }' "$smp") kB (start ${rss0:-?})"
  done
}

for x_scen in "${x_scens[@]}"; do
  case $x_scen in
    idle_conns) run_idle_conns ;;
    churn) run_churn ;;
    stream) run_stream ;;
  esac
done
