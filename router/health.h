/* Heartbeat and switch-over: a thread with its own libuv loop checks every
 * host with the dataHost's heartbeat SQL over MariaDB Connector/C's
 * non-blocking API, marks hosts up and down, and moves writes to the next
 * healthy writeHost when the active one is down, persisting the choice in
 * dnindex.properties.  Workers only read the shared atomics. */
#ifndef MX_ROUTER_HEALTH_H
#define MX_ROUTER_HEALTH_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "conf/conf.h"

typedef enum { MX_HOST_UNKNOWN = 0, MX_HOST_UP = 1, MX_HOST_DOWN = 2 } mx_host_status_t;

typedef enum {
    MX_FAIL_NONE = 0,
    MX_FAIL_REFUSED,   /* connect refused / unreachable */
    MX_FAIL_TIMEOUT,   /* no answer within heartbeat_timeout (a hung server) */
    MX_FAIL_AUTH,      /* the server refused the credentials */
    MX_FAIL_SQL,       /* the heartbeat statement failed or the link broke */
} mx_fail_kind_t;

typedef void (*mx_health_log_fn)(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* What the workers and the admin console read of one host slot.  The
 * heartbeat thread writes these; a worker writes only through
 * mx_health_kick(). */
typedef struct mx_host_state_s {
    _Atomic int status;          /* mx_host_status_t */
    _Atomic uint32_t down_gen;   /* bumped on every transition to DOWN */
    _Atomic int repl;            /* replication threads: -1 not a replica, 0 broken, 1 running */
    _Atomic int lag;             /* Seconds_Behind_Master, -1 unknown */
    _Atomic bool kick;           /* a worker saw a failure: beat now */
    _Atomic bool suspect;        /* a connection broke: no reads until a good beat */
    _Atomic int last_fail;       /* mx_fail_kind_t of the last failed beat */
} mx_host_state_t;

/* The heartbeat thread's own state (its loop, timers, connections, the
 * generation it uses and its counters) is private to health.c. */
struct mx_heartbeat_s;

typedef struct mx_health_s {
    mx_host_state_t *hosts;      /* MX_MAX_HOST_SLOTS, by host slot (mx_host_t.index) */
    _Atomic int *write_index;    /* MX_MAX_DH_SLOTS, by dataHost slot (mx_datahost_t.index): its active writeHost */
    const char *path;            /* state_dir/dnindex.properties, for logs */
    struct mx_heartbeat_s *hb;   /* NULL before init and after stop */
} mx_health_t;

/* Check that state_dir can be created and written in, read
 * dnindex.properties and prepare the loop.  Stale or corrupt lines are
 * reported and ignored; a state_dir manx cannot write in, or a file that
 * exists but cannot be read whole (unreadable, not a regular file, over
 * MX_DNINDEX_MAX_BYTES), is an error, logged: the caller must not start.
 * Returns 0, or a negative errno with nothing left to stop. */
int mx_health_init(mx_health_t *h, mx_config_t *cfg, mx_health_log_fn log);
int mx_health_start(mx_health_t *h);
void mx_health_stop(mx_health_t *h);
/* What the admin console shows of one host (a consistent copy). */
typedef struct mx_host_snapshot_s {
    int status, last_fail, repl, lag;
    bool suspect;
    int fails;
    uint64_t beats, failures;
    double rtt_ms;
    uint64_t since_ms;           /* ms since the last UP/DOWN change, 0 unknown */
    char last_error[200];
} mx_host_snapshot_t;

void mx_health_snapshot(mx_health_t *h, int index, mx_host_snapshot_t *out);

/* What the admin console shows of one dataHost: where writes go, and
 * whether dnindex.properties agrees (a consistent copy). */
typedef struct mx_datahost_snapshot_s {
    int active;                  /* writeHost index writes go to */
    int persisted;               /* writeHost index a restart would read from dnindex.properties */
    char persist_error[200];     /* why the last write of dnindex.properties failed; "" if it did not */
    uint64_t switches;           /* times writes moved to another writeHost since start-up */
} mx_datahost_snapshot_t;

void mx_health_datahost_snapshot(mx_health_t *h, size_t di, mx_datahost_snapshot_t *out);

/* One switch-over: writes of a dataHost moved from one writeHost to
 * another (names as they were then). */
#define MX_HEALTH_SWITCH_LOG 16  /* switch-overs remembered, the oldest forgotten first */
typedef struct mx_switch_event_s {
    uint64_t unix_ms;            /* wall clock, ms since the epoch */
    char datahost[MX_NAME_MAX];
    char from[MX_NAME_MAX], to[MX_NAME_MAX];
    int from_index, to_index;
    const char *why;             /* "heartbeat", "console", "dnindex", "etcd" or "backend_locks" (static) */
} mx_switch_event_t;

/* From any thread: copy the last switch-overs (at most `max`, oldest
 * first) into out.  Returns how many. */
size_t mx_health_switch_log(mx_health_t *h, mx_switch_event_t *out, size_t max);
/* From any thread: make writeHost `idx` of dataHost `di` the active one
 * (persisted like an automatic switch).  Returns false if out of range. */
bool mx_health_switch(mx_health_t *h, const mx_datahost_t *dh, int idx);

/* Reload, from the main thread, before any worker sees generation nc:
 * each dataHost of nc whose slot is new (its writeHost list changed)
 * starts with the writeHost that was active under its name in `old`. */
void mx_health_prepare(mx_health_t *h, const mx_config_t *old, const mx_config_t *nc);
/* From the main thread: the heartbeat adopts nc on its loop (takes a
 * reference): new hosts start beating, removed ones stop, kept ones go on
 * with their state and the new settings. */
void mx_health_set_config(mx_health_t *h, mx_config_t *cfg);

/* From any thread: re-read dnindex.properties and move writes where it
 * says (the operator's way to switch back by hand). */
void mx_health_reload(mx_health_t *h);
/* How this instance agrees with others on the writers (router/coord.h),
 * for the console and /metrics; NULL before init. */
struct mx_coord_s;
struct mx_coord_s *mx_health_coord(mx_health_t *h);
/* From any thread: a backend connection to host `index` failed. */
void mx_health_kick(mx_health_t *h, int index);

/* Databases on the backends, for strict_schemas: the heartbeat runs SHOW
 * DATABASES on each dataHost's active writeHost at its first good beat and
 * every MX_HEALTH_DB_EVERY good beats after, and keeps each host's last
 * list.  A database created on a backend is known at most that many beats
 * later. */
#define MX_HEALTH_DB_EVERY 10

/* From any thread, cheap (a read lock and a binary search per host):
 * whether a database called `name` (len bytes, unquoted, not
 * NUL-terminated) exists on some backend, ASCII case-insensitively.
 * Fails closed: true for every name until the first list has arrived, and
 * always true for information_schema, mysql, performance_schema and sys
 * (which the heartbeat's account may not be shown). */
bool mx_health_database_exists(mx_health_t *h, const char *name, size_t len);
/* Whether a list has arrived (before that every name "exists"). */
bool mx_health_databases_known(mx_health_t *h);
/* Internal (heartbeat thread, unit tests): publish host `host`'s list.
 * Returns 1 if it differs from the previous one, 0 if not, -ENOMEM. */
int mx__health_set_databases(mx_health_t *h, int host, const char *const *names, size_t n);

/* ---- for router/coord.c and its modes (heartbeat thread only) ---------------- */

struct mx_heartbeat_s;

/* Writes of dataHost `dh` go to writeHost `to` from now on: store, log,
 * count, persist in dnindex.properties.  `why` is a static string
 * ("heartbeat", "console", "dnindex", "etcd", "backend_locks"); `by` the
 * instance that decided ("" this one), `rev` the agreed revision (0 none). */
void mx__health_apply(struct mx_heartbeat_s *h, const mx_datahost_t *dh, int to, const char *why,
                      const char *by, int64_t rev);

/* A statement's outcome on a heartbeat connection: res is its result set
 * (NULL for none or on error), err the server's error number (0 ok) and
 * msg its text.  res is freed after the call. */
typedef void (*mx_health_sql_cb)(void *arg, int host_slot, void *res, unsigned int err, const char *msg);
/* Run `sql` on host `slot`'s heartbeat connection after its next beat's
 * own statements (the beat's timeout covers it).  Kept queued while the
 * host is unreachable; dropped (cb with err = 2013) when the host leaves
 * the configuration or the thread stops.  At most MX_HEALTH_SQL_QUEUE per
 * host: returns false when full. */
#define MX_HEALTH_SQL_QUEUE 8
bool mx__health_sql(struct mx_heartbeat_s *h, int slot, const char *sql, mx_health_sql_cb cb, void *arg);
/* Start a beat of host `slot` now unless one runs (statements queued
 * run sooner). */
void mx__health_beat_now(struct mx_heartbeat_s *h, int slot);
/* How long host `slot` has been UP (ms), 0 if not UP or since start-up. */
uint64_t mx__health_up_for(struct mx_heartbeat_s *h, int slot);
/* Every dataHost whose active writeHost is DOWN here looks for another
 * (coordination: a new decider, or other instances' views changed). */
void mx__health_recheck(struct mx_heartbeat_s *h);
/* The heartbeat's config generation (heartbeat thread only). */
const mx_config_t *mx__health_config(struct mx_heartbeat_s *h);

static inline int mx_health_writer(mx_health_t *h, size_t dh)
{
    return atomic_load_explicit(&h->write_index[dh], memory_order_relaxed);
}

static inline int mx_health_status(mx_health_t *h, int host)
{
    return atomic_load_explicit(&h->hosts[host].status, memory_order_relaxed);
}

const char *mx_fail_kind_name(int kind);
const char *mx_host_status_name(int status);

#endif
