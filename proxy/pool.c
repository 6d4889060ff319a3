/* Per-worker pools of backend connections to one host.  Each worker owns
 * its share of the host's max_con/min_con (split evenly), so the limit
 * holds across workers without locks.  Idle servers are kept LIFO so the
 * warmest one is reused first; waiting sessions are served FIFO. */
#include "pool.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "list.h"
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

static void close_list(mx_list_t *head, const char *why)
{
    while (!mx_list_empty(head)) {
        mx_server_t *sv = MX_CONTAINER_OF(head->next, mx_server_t, link);
        mx_server_close(sv, why);
    }
}

/* A retired pool with nothing left in it lets go of its generation. */
static void pool_release_if_empty(mx_pool_t *p)
{
    if (!p->retired || !p->cfg || p->n_total > 0 || p->n_waiting > 0)
        return;
    mx_conf_unref(p->cfg);
    p->cfg = NULL;
    p->host = NULL;
    p->dh = NULL;
}

void mx_pool_init(mx_pool_t *p, mx_worker_t *w, int acct)
{
    memset(p, 0, sizeof(*p));
    p->w = w;
    p->acct = acct;
    p->retired = true;
    for (int f = 0; f < MX_FLAVORS; f++)
        mx_list_init(&p->idle[f]);
    mx_list_init(&p->active);
    mx_list_init(&p->connecting);
    mx_list_init(&p->waiters);
}

void mx_pool_adopt(mx_pool_t *p, mx_config_t *cfg, const mx_host_t *h, bool retired)
{
    mx_conf_ref(cfg);
    mx_conf_unref(p->cfg);
    p->cfg = cfg;
    p->host = h;
    p->retired = retired;
    p->dh = host_datahost(cfg, h);
    int max_con = p->dh ? p->dh->max_con : 100;
    int min_con = p->dh ? p->dh->min_con : 0;
    int n = mx_proc.n_workers;
    /* max_con holds over all workers and accounts (a shared counter of
     * slots); each worker keeps its share of min_con warm, for the hosts'
     * own account. */
    p->max = max_con;
    p->min = p->acct == 0 ? (min_con + n - 1) / n : 0;
}

void mx_pool_retire(mx_pool_t *p)
{
    if (p->retired)
        return;
    p->retired = true;
    p->min = 0;
    mx_info("pool %s %s (account %d): host no longer in the configuration: draining (%d busy)", p->host->name,
            p->host->address, p->acct, p->n_busy);
    for (int f = 0; f < MX_FLAVORS; f++)
        close_list(&p->idle[f], "host removed by a reload");
}

const char *mx_pool_user(const mx_pool_t *p)
{
    return p->acct ? p->cfg->accounts[p->acct].user : p->host->user;
}

const char *mx_pool_password(const mx_pool_t *p)
{
    return p->acct ? p->cfg->accounts[p->acct].password : p->host->password;
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
    if (!p->dh)
        return false;
    return p->dh->write_hosts[mx_health_writer(&mx_proc.health, (size_t)p->dh->index)] == p->host;
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

/* Idle servers of any flavour but `flavor`, the least recently used first:
 * what can make room when max_con is reached. */
static mx_server_t *other_flavor_idle(mx_pool_t *p, uint8_t flavor)
{
    for (int f = 0; f < MX_FLAVORS; f++)
        if (f != flavor && !mx_list_empty(&p->idle[f]))
            return MX_CONTAINER_OF(p->idle[f].prev, mx_server_t, link);
    return NULL;
}

mx_server_t *mx_pool_acquire(mx_pool_t *p, mx_client_t *cl, uint8_t flavor)
{
    mx_list_t *idle = &p->idle[flavor];
    /* The warmest server that is clean or was last used by this user: a
     * backend carries session state manx may not see (a user variable set
     * by a stored function, say), so it never passes from one manx user to
     * another without a reset; nor does one that read its session defaults
     * before a SET GLOBAL through manx.  The scan is bounded: past it, a
     * reset. */
    int scanned = 0;
    uint32_t gen = atomic_load(&mx_proc.globals_gen);
    for (mx_list_t *l = idle->next; l != idle && scanned < 32; l = l->next, scanned++) {
        mx_server_t *sv = MX_CONTAINER_OF(l, mx_server_t, link);
        if ((sv->owner == 0 || sv->owner == cl->user->key) && sv->globals_gen == gen) {
            mx_server_set_state(sv, SV_ACTIVE);
            return sv;
        }
    }
    waiter_add(p, cl);
    if (!mx_list_empty(idle)) {
        /* Only servers other users left: reset the least recently used one;
         * the pool offers it to the first waiter when it is clean. */
        mx_server_t *sv = MX_CONTAINER_OF(idle->prev, mx_server_t, link);
        mx_server_set_state(sv, SV_ACTIVE);
        mx_server_release(sv, true);
        return NULL;
    }
    if (atomic_load(&mx_proc.host_conns[p->host->index]) >= p->max) {
        /* Full, but an idle server of another flavour can make room. */
        mx_server_t *other = other_flavor_idle(p, flavor);
        if (other)
            mx_server_close(other, "replaced by a connection of another flavour");
    }
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
    sv->client = NULL;
    if (p->n_kill) {
        /* A KILL QUERY waited for this connection. */
        mx_server_start_kill(sv, p->kill_tids[--p->n_kill]);
        return;
    }
    mx_client_t *foreign = NULL;
    for (mx_list_t *l = p->waiters.next; l != &p->waiters; l = l->next) {
        mx_client_t *cl = MX_CONTAINER_OF(l, mx_client_t, wait_link);
        if (mx_client_flavor(cl) != sv->flavor)
            continue;
        if ((sv->owner && sv->owner != cl->user->key) || sv->globals_gen != atomic_load(&mx_proc.globals_gen)) {
            if (!foreign)
                foreign = cl;
            continue;
        }
        waiter_del(p, cl);
        mx_server_set_state(sv, SV_ACTIVE);
        mx_client_got_server(cl, sv);
        return;
    }
    if (foreign) {
        /* Only another user waits for this flavour: reset the server for it
         * (it comes back here clean). */
        mx_server_set_state(sv, SV_ACTIVE);
        mx_server_release(sv, true);
        return;
    }
    if (p->retired) {
        /* Its host was removed by a reload: busy connections close as
         * their sessions let go of them. */
        mx_server_close(sv, "host removed by a reload");
        return;
    }
    mx_server_set_state(sv, SV_IDLE);
    sv->used_at = uv_now(&p->w->loop);
    if (!mx_list_empty(&p->waiters)) {
        /* Waiters of other flavours only: trade this idle server for one of
         * theirs. */
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
    if (!p->cfg)
        return; /* created for an account no host uses yet, or drained */
    atomic_store_explicit(&p->pub_busy, p->n_busy, memory_order_relaxed);
    int idle = 0;
    for (int f = 0; f < MX_FLAVORS; f++)
        idle += list_len(&p->idle[f]);
    atomic_store_explicit(&p->pub_idle, idle, memory_order_relaxed);
    atomic_store_explicit(&p->pub_total, p->n_total, memory_order_relaxed);
    atomic_store_explicit(&p->pub_waiting, p->n_waiting, memory_order_relaxed);
    atomic_store_explicit(&p->pub_reads, p->n_reads, memory_order_relaxed);
    atomic_store_explicit(&p->pub_writes, p->n_writes, memory_order_relaxed);
    atomic_store_explicit(&p->pub_errors, p->n_errors, memory_order_relaxed);
    atomic_store_explicit(&p->pub_connect_failures, p->connect_failures, memory_order_relaxed);
    uint32_t gen = atomic_load(&mx_proc.health.hosts[p->host->index].down_gen);
    if (gen != p->down_gen) {
        /* The heartbeat marked the host down: statements running there get
         * an error now instead of hanging on a dead or frozen server. */
        p->down_gen = gen;
        mx_pool_close_all(p, "host marked down by the heartbeat");
    }
    if (p->n_waiting > 0 && mx_health_status(&mx_proc.health, p->host->index) == MX_HOST_DOWN) {
        /* Waiting for a host the heartbeat calls down (a statement routed
         * there just before, or writes while no other writer is agreed):
         * the error now, not at pool_wait_timeout. */
        while (!mx_list_empty(&p->waiters)) {
            mx_client_t *cl = MX_CONTAINER_OF(p->waiters.next, mx_client_t, wait_link);
            waiter_del(p, cl);
            mx_client_pool_failed(cl, p, "the heartbeat marked it DOWN");
        }
    }
    if (p->retired) {
        pool_release_if_empty(p);
        return;
    }
    if (p->w->stopping)
        return;
    int waiting_elsewhere = atomic_load(&mx_proc.host_waiters[p->host->index]) - p->n_waiting;
    if (waiting_elsewhere > 0 && p->n_waiting == 0) {
        /* Another worker's clients wait for a slot of max_con while this
         * worker holds idle connections: give one back. */
        for (int f = 0; f < MX_FLAVORS; f++) {
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


void mx_pool_close_all(mx_pool_t *p, const char *why)
{
    for (int f = 0; f < MX_FLAVORS; f++)
        close_list(&p->idle[f], why);
    close_list(&p->connecting, why);
    close_list(&p->active, why);
}
