/* The metrics endpoint: HTTP on metrics_listen, served by the main thread's
 * loop (GET /metrics in Prometheus' text format, GET / a status page, GET
 * /status.json what the page draws), and the counters workers keep for it.
 * Workers count in their own mx_wstats_t with the inline functions below
 * (plain increments, no atomics on the hot path); the janitor publishes
 * them (mx_metrics_publish) and the endpoint reads only what was published. */
#ifndef MX_PROXY_METRICS_H
#define MX_PROXY_METRICS_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "proxy-t.h"

/* Error sources, the second index of mx_wstats_t.err_n. */
#define MX_ERR_FROM_BACKEND 0
#define MX_ERR_FROM_MANX 1

/* Main thread, after the workers started: listen on cfg->metrics_listen
 * (nothing when empty) and serve it on `loop`.  Returns 0 or a negative
 * errno (the address is logged). */
int mx_metrics_start(uv_loop_t *loop, const mx_config_t *cfg);
/* Main thread: stop listening, close every HTTP connection and the
 * handles on the loop (the loop must run once more to finish closing). */
void mx_metrics_stop(void);

/* Worker, from its janitor: copy w->wstats and w's byte counters into
 * w->wstats' pub_* atomics. */
void mx_metrics_publish(mx_worker_t *w);

/* Worker: the client received an ERR packet with `code` (from: MX_ERR_FROM_*).
 * Codes beyond the table's room are counted in its last slot ("other"). */
static inline void mx_metrics_error(mx_wstats_t *s, uint16_t code, int from)
{
    int i = code ? 0 : MX_ERR_SLOTS - 1;   /* 0 means a free slot: never a code of its own */
    for (; i < MX_ERR_SLOTS - 1; i++) {
        if (s->err_code[i] == code)
            break;
        if (s->err_code[i] == 0) {
            s->err_code[i] = code;
            break;
        }
    }
    s->err_n[i][from]++;
}

/* Worker: session cl forwards a command now (its class and target are
 * set).  A count only: the start time is the console's (cl->stat.start_ns,
 * proxy/stats.c), read once per statement for both. */
static inline void mx_metrics_stmt_begin(mx_client_t *cl)
{
    unsigned cls = cl->cls <= 2 ? cl->cls : 3;
    cl->conn.w->wstats.v[MX_ST_STMT + cls * 2 + (cl->routed_read ? 1 : 0)]++;
}

/* Worker: a statement's response finished `us` microseconds after it was
 * forwarded (as mx_stats_statement_done measured it): into the histogram. */
void mx_metrics_stmt_done(mx_wstats_t *s, uint64_t us);

#endif
