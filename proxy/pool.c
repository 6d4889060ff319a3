/* Per-worker pools of backend connections to one host.  Each worker owns
 * its share of the host's max_con/min_con (split evenly), so the limit
 * holds across workers without locks.  Idle servers are kept LIFO so the
 * warmest one is reused first; waiting sessions are served FIFO. */
#include "pool.h"

#include <stdio.h>
#include <string.h>

#include "client.h"
#include "log.h"
#include "server.h"
#include "worker.h"

static const mx_datahost_t *host_datahost(const mx_config_t *cfg, const mx_host_t *h)
{
    for (size_t i = 0; i < cfg->n_datahosts; i++) {
        const mx_datahost_t *dh = &cfg->datahosts[i];
        for (size_t j = 0; j < dh->n_write_hosts; j++) {
            const mx_host_t *wh = dh->write_hosts[j];
            if (wh == h)
                return dh;
            for (size_t k = 0; k < wh->n_read_hosts; k++)
                if (wh->read_hosts[k] == h)
                    return dh;
        }
    }
    return NULL;
}

void mx_pool_init(mx_pool_t *p, mx_worker_t *w, const mx_host_t *h)
{
    const mx_config_t *cfg = mx_proc.cfg;
    memset(p, 0, sizeof(*p));
    p->w = w;
    p->host = h;
    p->dh = host_datahost(cfg, h);
    mx_list_init(&p->idle[0]);
    mx_list_init(&p->idle[1]);
    mx_list_init(&p->active);
    mx_list_init(&p->connecting);
    mx_list_init(&p->waiters);
    int max_con = p->dh ? p->dh->max_con : 100;
    int min_con = p->dh ? p->dh->min_con : 0;
    int n = mx_proc.n_workers;
    /* max_con holds over all workers (a shared counter of slots); each
     * worker keeps its share of min_con warm. */
    p->max = max_con;
    p->min = (min_con + n - 1) / n;
}

bool mx_pool_reserve(mx_pool_t *p)
{
    _Atomic int *c = &mx_proc.host_conns[p->host->index];
    if (atomic_fetch_add(c, 1) >= p->max) {
        atomic_fetch_sub(c, 1);
        return false;
    }
    return true;
}

void mx_pool_unreserve(mx_pool_t *p)
{
    atomic_fetch_sub(&mx_proc.host_conns[p->host->index], 1);
}

static void waiter_add(mx_pool_t *p, mx_client_t *cl)
{
    mx_list_append(&p->waiters, &cl->wait_link);
    p->n_waiting++;
    atomic_fetch_add(&mx_proc.host_waiters[p->host->index], 1);
}

static void waiter_del(mx_pool_t *p, mx_client_t *cl)
{
    mx_list_del(&cl->wait_link);
    p->n_waiting--;
    atomic_fetch_sub(&mx_proc.host_waiters[p->host->index], 1);
}

static bool pool_used_by_writes(const mx_pool_t *p)
{
    /* Only hosts that are the active writeHost of their dataHost get warm
     * connections for now: nothing routes to the others yet. */
    const mx_config_t *cfg = mx_proc.cfg;
    if (!p->dh)
        return false;
    size_t di = (size_t)(p->dh - cfg->datahosts);
    return p->dh->write_hosts[mx_health_writer(&mx_proc.health, di)] == p->host;
}

static int n_connecting(const mx_pool_t *p)
{
    int n = 0;
    for (const mx_list_t *l = p->connecting.next; l != &p->connecting; l = l->next)
        n++;
    return n;
}

static int n_waiters(const mx_pool_t *p)
{
    return p->n_waiting;
}

mx_server_t *mx_pool_acquire(mx_pool_t *p, mx_client_t *cl, uint8_t flavor, mx_server_t *hint)
{
    mx_list_t *idle = &p->idle[flavor];
    mx_server_t *sv = NULL;
    if (hint && hint->pool == p && hint->state == SV_IDLE && hint->flavor == flavor)
        sv = hint;
    else if (!mx_list_empty(idle))
        sv = MX_CONTAINER_OF(idle->next, mx_server_t, link);
    if (sv) {
        mx_list_del(&sv->link);
        mx_list_append(&p->active, &sv->link);
        sv->state = SV_ACTIVE;
        p->n_busy++;
        return sv;
    }
    if (atomic_load(&mx_proc.host_conns[p->host->index]) >= p->max && !mx_list_empty(&p->idle[!flavor])) {
        /* Full, but an idle server of the other flavour can make room. */
        mx_server_t *other = MX_CONTAINER_OF(p->idle[!flavor].prev, mx_server_t, link);
        mx_server_close(other, "replaced by a connection of another flavour");
    }
    waiter_add(p, cl);
    if (n_connecting(p) < n_waiters(p))
        mx_server_connect(p, flavor);
    return NULL;
}

void mx_pool_cancel_wait(mx_pool_t *p, mx_client_t *cl)
{
    waiter_del(p, cl);
}

void mx_pool_offer(mx_server_t *sv)
{
    mx_pool_t *p = sv->pool;
    if (sv->state == SV_ACTIVE || sv->state == SV_RESET || sv->state == SV_KILL)
        p->n_busy--;
    mx_list_del(&sv->link);
    sv->client = NULL;
    if (p->n_kill) {
        /* A KILL QUERY waited for this connection. */
        mx_list_append(&p->active, &sv->link);
        p->n_busy++;
        mx_server_start_kill(sv, p->kill_tids[--p->n_kill]);
        return;
    }
    for (mx_list_t *l = p->waiters.next; l != &p->waiters; l = l->next) {
        mx_client_t *cl = MX_CONTAINER_OF(l, mx_client_t, wait_link);
        if (mx_client_flavor(cl) != sv->flavor)
            continue;
        waiter_del(p, cl);
        mx_list_append(&p->active, &sv->link);
        sv->state = SV_ACTIVE;
        p->n_busy++;
        mx_client_got_server(cl, sv);
        return;
    }
    sv->state = SV_IDLE;
    sv->used_at = uv_now(&p->w->loop);
    mx_list_push(&p->idle[sv->flavor], &sv->link);
    if (!mx_list_empty(&p->waiters)) {
        /* Waiters of the other flavour only: trade this idle server for one
         * of theirs. */
        mx_client_t *cl = MX_CONTAINER_OF(p->waiters.next, mx_client_t, wait_link);
        if (n_connecting(p) == 0) {
            mx_server_close(sv, "replaced by a connection of another flavour");
            mx_server_connect(p, mx_client_flavor(cl));
        }
    }
}

void mx_pool_connect_failed(mx_pool_t *p, const char *reason)
{
    p->connect_failures++;
    snprintf(p->last_error, sizeof(p->last_error), "%s", reason);
    /* Waiters beyond what the remaining connection attempts can serve get
     * the error now rather than at their timeout. */
    int coming = n_connecting(p);
    int n = n_waiters(p);
    while (n > coming && !mx_list_empty(&p->waiters)) {
        mx_client_t *cl = MX_CONTAINER_OF(p->waiters.prev, mx_client_t, wait_link);
        waiter_del(p, cl);
        mx_client_pool_failed(cl, p, reason);
        n--;
    }
}

static int list_len(const mx_list_t *head)
{
    int n = 0;
    for (const mx_list_t *l = head->next; l != head; l = l->next)
        n++;
    return n;
}

void mx_pool_janitor(mx_pool_t *p)
{
    atomic_store_explicit(&p->pub_busy, p->n_busy, memory_order_relaxed);
    atomic_store_explicit(&p->pub_idle, list_len(&p->idle[0]) + list_len(&p->idle[1]), memory_order_relaxed);
    atomic_store_explicit(&p->pub_total, p->n_total, memory_order_relaxed);
    atomic_store_explicit(&p->pub_waiting, p->n_waiting, memory_order_relaxed);
    atomic_store_explicit(&p->pub_reads, p->n_reads, memory_order_relaxed);
    atomic_store_explicit(&p->pub_writes, p->n_writes, memory_order_relaxed);
    atomic_store_explicit(&p->pub_errors, p->n_errors, memory_order_relaxed);
    uint32_t gen = atomic_load(&mx_proc.health.hosts[p->host->index].down_gen);
    if (gen != p->down_gen) {
        /* The heartbeat marked the host down: statements running there get
         * an error now instead of hanging on a dead or frozen server. */
        p->down_gen = gen;
        mx_pool_close_all(p, "host marked down by the heartbeat");
    }
    if (p->w->stopping)
        return;
    int waiting_elsewhere = atomic_load(&mx_proc.host_waiters[p->host->index]) - p->n_waiting;
    if (waiting_elsewhere > 0 && p->n_waiting == 0) {
        /* Another worker's clients wait for a slot of max_con while this
         * worker holds idle connections: give one back. */
        for (int f = 0; f < 2; f++) {
            if (!mx_list_empty(&p->idle[f])) {
                mx_server_t *sv = MX_CONTAINER_OF(p->idle[f].prev, mx_server_t, link);
                mx_server_close(sv, "slot handed to another worker");
                break;
            }
        }
    }
    if (p->n_waiting > n_connecting(p)) {
        /* Waiters whose connect found max_con reached: retry now that
         * another worker may have given a slot back. */
        mx_client_t *cl = MX_CONTAINER_OF(p->waiters.next, mx_client_t, wait_link);
        mx_server_connect(p, mx_client_flavor(cl));
    }
    if (p->n_total < p->min && n_connecting(p) == 0 && waiting_elsewhere <= 0 && pool_used_by_writes(p)) {
        /* Back off after failures: one attempt per janitor tick is enough. */
        mx_server_connect(p, 0);
    }
}

static void close_list(mx_list_t *head, const char *why)
{
    while (!mx_list_empty(head)) {
        mx_server_t *sv = MX_CONTAINER_OF(head->next, mx_server_t, link);
        mx_server_close(sv, why);
    }
}

void mx_pool_close_all(mx_pool_t *p, const char *why)
{
    close_list(&p->idle[0], why);
    close_list(&p->idle[1], why);
    close_list(&p->connecting, why);
    close_list(&p->active, why);
}
