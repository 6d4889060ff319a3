/* Coordination: how several manx instances agree on each dataHost's active
 * writeHost ([manx] coordination), and fencing ([datahost] fence).  Runs
 * on the heartbeat thread's loop; health.c asks it to switch, it decides
 * whether and when writes really move (mx__health_apply), and it may run
 * statements on the heartbeat's connections (mx__health_sql).
 *
 *   none           the instance decides alone: a proposal applies at once.
 *   etcd           coord_etcd.c: one decider per dataHost elected with an
 *                  etcd lease; the writer lives in etcd and moves by a
 *                  compare-and-swap; every instance follows the key.
 *   backend_locks  coord_locks.c: the decider holds GET_LOCK on a majority
 *                  of the writeHosts it can reach; the writer is recorded
 *                  in manx_coord.writer on the backends.
 *
 * Everything here but the snapshot is called on the heartbeat thread. */
#ifndef MX_ROUTER_COORD_H
#define MX_ROUTER_COORD_H

#include <stdbool.h>
#include <stdint.h>

#include "conf/conf.h"
#include "health.h"

typedef struct mx_coord_s mx_coord_t;

/* ---- called by health.c ------------------------------------------------------ */

/* NULL when out of memory (logged).  loop is the heartbeat's. */
mx_coord_t *mx_coord_new(struct mx_heartbeat_s *h, mx_health_t *pub, void *loop, const mx_config_t *cfg,
                         mx_health_log_fn log);
/* After the loop started (etcd connects). */
void mx_coord_start(mx_coord_t *c);
/* The heartbeat adopted generation cfg (dataHosts and hosts may differ). */
void mx_coord_adopt(mx_coord_t *c, const mx_config_t *cfg);
/* A host of dh changed between UP and DOWN in this instance's view. */
void mx_coord_host_changed(mx_coord_t *c, const mx_datahost_t *dh);
/* Health wants writes of dh to move from writeHost `from` to `to`
 * (`why` as for mx__health_apply).  none: applies at once; otherwise only
 * if this instance may decide now (else logged and shown as the note). */
void mx_coord_propose(mx_coord_t *c, const mx_datahost_t *dh, int from, int to, const char *why);
/* Whether this instance may switch dh's writer on its own view (none: yes). */
bool mx_coord_decides(mx_coord_t *c, const mx_datahost_t *dh);
/* A beat of host `slot` (of dataHost dh) succeeded; `fresh`: on a
 * connection opened by this beat.  Coordination may queue statements. */
void mx_coord_beat(mx_coord_t *c, const mx_datahost_t *dh, int slot, bool fresh);
/* Writes of dh moved (after mx__health_apply): fencing. */
void mx_coord_applied(mx_coord_t *c, const mx_datahost_t *dh, int from, int to);
/* The thread stops: close every handle; done() is called when they are
 * closed (the loop may then end). */
void mx_coord_stop(mx_coord_t *c);
void mx_coord_free(mx_coord_t *c);

/* From any thread: what the console and /metrics show of dataHost slot di. */
typedef struct mx_coord_snapshot_s {
    int mode;                    /* MX_COORD_* */
    const char *state;           /* "ALONE", "SYNCING", "SYNCED", "LOST" (static) */
    char instance[128];
    char decider[128];           /* "" unknown */
    bool i_decide;
    char writer[MX_NAME_MAX];    /* agreed writer host, "" unknown */
    int writer_index;            /* -1 unknown */
    int64_t writer_rev;
    double lost_s;               /* seconds since the coordinator last answered, while LOST */
    uint64_t applied, won, lost; /* agreed switches applied; proposals won, lost */
    int fence;                   /* MX_FENCE_* */
    char fence_state[240];
    uint64_t fence_ok, fence_err;
    char note[200];
    bool connected;              /* etcd answering (none, backend_locks: true) */
} mx_coord_snapshot_t;
void mx_coord_snapshot(mx_coord_t *c, const mx_datahost_t *dh, mx_coord_snapshot_t *out);

/* ---- for the modes (coord_etcd.c, coord_locks.c; router/coord-t.h) ------------ */

struct mx_coord_dh_s;
/* The record of dataHost dh, created on first use; NULL out of memory. */
struct mx_coord_dh_s *mx__coord_dh(mx_coord_t *c, const mx_datahost_t *dh);
/* The dataHost of the current generation called `name`, or NULL. */
const mx_datahost_t *mx__coord_find_dh(mx_coord_t *c, const char *name);
/* Count one more agreed switch applied, proposal won or proposal lost for
 * dh (what the console shows), under the snapshot lock. */
enum { MX_COORD_APPLIED, MX_COORD_WON, MX_COORD_LOST };
void mx__coord_count(mx_coord_t *c, const mx_datahost_t *dh, int what);
/* This instance has just become dh's decider: fencing catches up. */
void mx__coord_took_role(mx_coord_t *c, const mx_datahost_t *dh);
/* Note (printf) why this instance does not switch dh now; "" clears. */
void mx__coord_note(mx_coord_t *c, const mx_datahost_t *dh, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
