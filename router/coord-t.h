/* Coordination's shared state (router/coord.c and the modes, coord_etcd.c
 * and coord_locks.c): one record per dataHost slot, written on the
 * heartbeat thread, read by snapshots under `lock`. */
#ifndef MX_ROUTER_COORD_T_H
#define MX_ROUTER_COORD_T_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "coord.h"

enum { CO_LOG_ERROR = 0, CO_LOG_WARNING = 1, CO_LOG_INFO = 2, CO_LOG_DEBUG = 3 };

typedef struct mx_coord_dh_s {
    char name[MX_NAME_MAX];
    int slot;                    /* mx_datahost_t.index */
    char decider[128];           /* instance deciding for it, "" unknown */
    bool i_decide;
    char writer[MX_NAME_MAX];    /* agreed writer, "" not known yet */
    int writer_index;            /* -1 not known yet */
    int64_t writer_rev;          /* etcd: the writer key's mod_revision; locks: epoch */
    uint64_t applied, won, lost;
    char note[200];              /* why this instance is not switching, "" none */
    char fence_state[240];
    uint64_t fence_ok, fence_err;
} mx_coord_dh_t;

struct mx_etcd_s;
struct mx_locks_s;

struct mx_coord_s {
    struct mx_heartbeat_s *h;
    mx_health_t *pub;
    uv_loop_t *loop;
    const mx_config_t *cfg;      /* the heartbeat's generation */
    mx_health_log_fn log;
    int mode;                    /* MX_COORD_*, fixed at start-up */
    char instance[128];
    uv_mutex_t lock;             /* guards dhs[] contents and the fields below for snapshots */
    mx_coord_dh_t *dhs[MX_MAX_DH_SLOTS];
    const char *state;           /* "ALONE", "SYNCING", "SYNCED", "LOST" */
    bool connected;
    uint64_t lost_since_ms;      /* loop time the coordinator last answered, while LOST */
    struct mx_etcd_s *etcd;
    struct mx_locks_s *locks;
};

/* Whether at least a majority of `n_live` instances (n_live >= 1) is `n_yes`. */
static inline bool mx__coord_majority(int n_yes, int n_live)
{
    return n_live > 0 && 2 * n_yes > n_live;
}

#endif
