/* Read host choice with Mycat's balance semantics:
 *   0  reads go to the active writeHost;
 *   1  reads go to every readHost and the standby writeHosts;
 *   2  reads spread over all writeHosts and readHosts;
 *   3  reads go to the readHosts of the active writeHost only.
 * Unlike Mycat, a readHost whose writeHost is down keeps serving while it
 * is healthy itself, and a host that just broke a connection is skipped
 * until its next good heartbeat. */
#include "route.h"

#include <limits.h>

bool mx_route_readable(const mx_datahost_t *dh, mx_health_t *h, int index)
{
    const mx_host_state_t *hh = &h->hosts[index];
    if (atomic_load_explicit(&hh->status, memory_order_relaxed) != MX_HOST_UP)
        return false;
    if (atomic_load_explicit(&hh->suspect, memory_order_relaxed))
        return false;
    if (dh->switch_type == 2) {
        int repl = atomic_load_explicit(&hh->repl, memory_order_relaxed);
        int lag = atomic_load_explicit(&hh->lag, memory_order_relaxed);
        if (repl == 0 || (repl == 1 && (lag < 0 || lag > dh->slave_threshold)))
            return false;
    }
    return true;
}

#define MAX_CANDIDATES 64

typedef struct pick_s {
    int best[MAX_CANDIDATES];  /* hosts sharing the lowest score */
    int n;
    long best_score;           /* (load + 1) * 1000 / weight, lower is better */
} pick_t;

static void consider(pick_t *pk, const mx_datahost_t *dh, mx_health_t *h, const mx_host_t *host,
                     mx_route_load_fn load, void *arg)
{
    if (!mx_route_readable(dh, h, host->index))
        return;
    for (int i = 0; i < pk->n; i++)
        if (pk->best[i] == host->index)
            return; /* listed twice (read host of two write hosts) */
    long score = (long)(load(arg, host->index) + 1) * 1000 / (host->weight > 0 ? host->weight : 1);
    if (pk->n == 0 || score < pk->best_score) {
        pk->best[0] = host->index;
        pk->n = 1;
        pk->best_score = score;
    } else if (score == pk->best_score && pk->n < MAX_CANDIDATES) {
        pk->best[pk->n++] = host->index;
    }
}

/* Whether the readHosts of writeHost w may be used: always, unless the
 * dataHost asks for Mycat's behaviour and w is down. */
static bool reads_of(const mx_datahost_t *dh, mx_health_t *h, const mx_host_t *w)
{
    return !dh->drop_reads_of_dead_writer ||
           atomic_load_explicit(&h->hosts[w->index].status, memory_order_relaxed) != MX_HOST_DOWN;
}

int mx_route_write_host(const mx_datahost_t *dh, mx_health_t *h, mx_route_load_fn load, void *arg,
                        unsigned *rr)
{
    pick_t pk = { .n = 0, .best_score = LONG_MAX };
    for (size_t i = 0; i < dh->n_write_hosts; i++) {
        const mx_host_t *w = dh->write_hosts[i];
        const mx_host_state_t *hh = &h->hosts[w->index];
        if (atomic_load_explicit(&hh->status, memory_order_relaxed) != MX_HOST_UP ||
            atomic_load_explicit(&hh->suspect, memory_order_relaxed))
            continue;
        long score = (long)(load(arg, w->index) + 1) * 1000 / (w->weight > 0 ? w->weight : 1);
        if (pk.n == 0 || score < pk.best_score) {
            pk.best[0] = w->index;
            pk.n = 1;
            pk.best_score = score;
        } else if (score == pk.best_score && pk.n < MAX_CANDIDATES) {
            pk.best[pk.n++] = w->index;
        }
    }
    if (pk.n == 0)
        return -1;
    return pk.best[(*rr)++ % (unsigned)pk.n];
}

int mx_route_read_host(const mx_datahost_t *dh, size_t di, mx_health_t *h, mx_route_load_fn load,
                       void *arg, unsigned *rr)
{
    int wi = mx_health_writer(h, di);
    const mx_host_t *writer = dh->write_hosts[wi];
    pick_t pk = { .n = 0, .best_score = LONG_MAX };
    switch (dh->balance) {
    case 0:
        return -1;
    case 1:
        for (size_t i = 0; i < dh->n_write_hosts; i++) {
            const mx_host_t *w = dh->write_hosts[i];
            if (w != writer)
                consider(&pk, dh, h, w, load, arg);
            if (reads_of(dh, h, w))
                for (size_t r = 0; r < w->n_read_hosts; r++)
                    consider(&pk, dh, h, w->read_hosts[r], load, arg);
        }
        break;
    case 2:
        for (size_t i = 0; i < dh->n_write_hosts; i++) {
            const mx_host_t *w = dh->write_hosts[i];
            consider(&pk, dh, h, w, load, arg);
            if (reads_of(dh, h, w))
                for (size_t r = 0; r < w->n_read_hosts; r++)
                    consider(&pk, dh, h, w->read_hosts[r], load, arg);
        }
        break;
    case 3:
        if (reads_of(dh, h, writer))
            for (size_t r = 0; r < writer->n_read_hosts; r++)
                consider(&pk, dh, h, writer->read_hosts[r], load, arg);
        break;
    default:
        return -1;
    }
    if (pk.n == 0)
        return -1;
    /* Among equals, rotate so a quiet system still spreads its reads. */
    return pk.best[(*rr)++ % (unsigned)pk.n];
}
