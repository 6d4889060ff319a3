/* Workers: each thread runs one libuv loop with its own SO_REUSEPORT
 * listener, sessions and pools, so nothing is shared on the query path.
 * The main thread only starts, signals and joins them. */
#include "worker.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "admin.h"
#include "client.h"
#include "login.h"
#include "list.h"
#include "log.h"
#include "metrics.h"
#include "pool.h"
#include "stats.h"

int mx_parse_listen(const char *s, struct sockaddr_storage *ss)
{
    char host[256];
    const char *colon = strrchr(s, ':');
    if (!colon || colon == s)
        return -EINVAL;
    size_t hl = (size_t)(colon - s);
    if (s[0] == '[') {
        if (hl < 2 || s[hl - 1] != ']')
            return -EINVAL;
        memcpy(host, s + 1, hl - 2);
        host[hl - 2] = 0;
    } else {
        if (hl >= sizeof(host))
            return -EINVAL;
        memcpy(host, s, hl);
        host[hl] = 0;
    }
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || port < 0 || port > 65535)
        return -EINVAL;
    memset(ss, 0, sizeof(*ss));
    if (strchr(host, ':')) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons((uint16_t)port);
        if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1)
            return -EINVAL;
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)ss;
        a->sin_family = AF_INET;
        a->sin_port = htons((uint16_t)port);
        if (strcmp(host, "localhost") == 0)
            strcpy(host, "127.0.0.1");
        if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
            return -EINVAL;
    }
    return 0;
}

static int make_listen_socket(const char *addr)
{
    struct sockaddr_storage ss;
    int rc = mx_parse_listen(addr, &ss);
    if (rc < 0)
        return rc;
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    /* No SO_REUSEPORT: with it a second manx started by mistake would
     * silently share the port and half the clients would reach it.  The
     * workers share this one socket instead (dup'ed per worker). */
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    socklen_t len = ss.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
    if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 1024) < 0) {
        rc = -errno;
        close(fd);
        return rc;
    }
    return fd;
}

uint8_t *mx_worker_buf_get(mx_worker_t *w)
{
    if (w->n_buf_free)
        return w->buf_free[--w->n_buf_free];
    return malloc(MX_BUF_SIZE);
}

void mx_worker_buf_put(mx_worker_t *w, uint8_t *buf)
{
    /* Keep a bounded number of spare buffers; idle memory goes back. */
    if (w->n_buf_free < 256) {
        if (w->n_buf_free == w->cap_buf_free) {
            size_t cap = w->cap_buf_free ? w->cap_buf_free * 2 : 32;
            uint8_t **nb = realloc(w->buf_free, cap * sizeof(*nb));
            if (!nb) {
                free(buf);
                return;
            }
            w->buf_free = nb;
            w->cap_buf_free = cap;
        }
        w->buf_free[w->n_buf_free++] = buf;
        return;
    }
    free(buf);
}

mx_pool_t *mx_worker_pool(mx_worker_t *w, int host, int acct)
{
    if (host < 0 || host >= MX_MAX_HOST_SLOTS || acct < 0 || acct >= MX_MAX_ACCOUNTS)
        return NULL;
    return atomic_load_explicit(&w->pools[(size_t)host * MX_MAX_ACCOUNTS + (size_t)acct], memory_order_acquire);
}

mx_pool_t *mx_worker_pool_in(mx_worker_t *w, mx_config_t *cfg, int host, int acct)
{
    mx_pool_t *p = mx_worker_pool(w, host, acct);
    if (p && !p->cfg) {
        /* A session of an older generation (pinned while the reload came)
         * routes to a host since removed whose pool already drained: serve
         * it from that generation, and drain again after. */
        const mx_host_t *h = mx_conf_host_by_slot(cfg, host);
        if (h)
            mx_pool_adopt(p, cfg, h, true);
    }
    return p;
}

/* This worker's pool for (host slot, account slot), created on first use. */
static mx_pool_t *pool_get(mx_worker_t *w, int host, int acct)
{
    mx_pool_t *p = mx_worker_pool(w, host, acct);
    if (p)
        return p;
    if (w->n_pools % 16 == 0) {
        mx_pool_t **nl = realloc(w->pool_list, (w->n_pools + 16) * sizeof(*nl));
        if (!nl)
            return NULL;
        w->pool_list = nl;
    }
    if (!(p = malloc(sizeof(*p))))
        return NULL;
    mx_pool_init(p, w, acct);
    w->pool_list[w->n_pools++] = p;
    /* release: the console reads the pool's counters from worker 0. */
    atomic_store_explicit(&w->pools[(size_t)host * MX_MAX_ACCOUNTS + (size_t)acct], p, memory_order_release);
    return p;
}

/* Start using generation cfg (the caller's reference passes to the
 * worker): pools for its hosts and accounts take it, pools of hosts it no
 * longer has drain.  Sessions move over at their next statement
 * (mx_worker_session_gen).  Returns false, keeping the old generation,
 * when memory runs out. */
static bool adopt(mx_worker_t *w, mx_config_t *cfg)
{
    if (cfg->n_user_keys + 1 > w->n_sha2) {
        bool *n = realloc(w->sha2_cached, (cfg->n_user_keys + 1) * sizeof(bool));
        if (!n)
            return false;
        memset(n + w->n_sha2, 0, (cfg->n_user_keys + 1 - w->n_sha2) * sizeof(bool));
        w->sha2_cached = n;
        w->n_sha2 = cfg->n_user_keys + 1;
    }
    for (size_t i = 0; i < cfg->n_hosts; i++)
        for (int a = 0; a < cfg->n_acct_slots; a++)
            if ((a == 0 || cfg->accounts[a].user) && !pool_get(w, cfg->hosts[i].index, a))
                return false;
    for (size_t i = 0; i < cfg->n_hosts; i++) {
        for (int a = 0; a < cfg->n_acct_slots; a++) {
            if (a != 0 && !cfg->accounts[a].user)
                continue;
            mx_pool_t *p = mx_worker_pool(w, cfg->hosts[i].index, a);
            if (!p->cfg)
                p->down_gen = atomic_load(&mx_proc.health.hosts[cfg->hosts[i].index].down_gen);
            mx_pool_adopt(p, cfg, &cfg->hosts[i], false);
        }
    }
    for (size_t i = 0; i < w->n_pools; i++)
        if (w->pool_list[i]->cfg != cfg && w->pool_list[i]->cfg)
            mx_pool_retire(w->pool_list[i]);
    mx_config_t *old = w->cfg;
    w->cfg = cfg;
    if (old)
        mx_info("worker %d: configuration generation %u in use (was %u)", w->index, cfg->generation,
                old->generation);
    mx_conf_unref(old);
    return true;
}

static void on_gen(uv_async_t *a)
{
    mx_worker_t *w = a->data;
    mx_config_t *cfg = atomic_exchange_explicit(&w->next_cfg, NULL, memory_order_acq_rel);
    if (cfg && !adopt(w, cfg)) {
        mx_error("worker %d: out of memory adopting configuration generation %u: keeping %u", w->index,
                 cfg->generation, w->cfg->generation);
        mx_conf_unref(cfg);
    }
}

void mx_worker_post_gen(mx_worker_t *w, mx_config_t *cfg)
{
    mx_conf_ref(cfg);
    mx_config_t *old = atomic_exchange_explicit(&w->next_cfg, cfg, memory_order_acq_rel);
    /* A generation the worker never picked up is simply skipped. */
    mx_conf_unref(old);
    uv_async_send(&w->gen_async);
}

const char *mx_worker_session_gen(mx_client_t *cl)
{
    mx_config_t *nc = cl->conn.w->cfg, *oc = cl->cfg;
    if (oc == nc || cl->server)
        return NULL;
    const mx_user_t *u = cl->user;
    const mx_schema_t *s = NULL;
    if (cl->user && !cl->admin) {
        u = mx_conf_find_user(nc, cl->user->name, strlen(cl->user->name));
        if (!u)
            return "user removed from the configuration";
    }
    if (cl->schema && !cl->admin) {
        s = mx_conf_find_schema(nc, cl->schema->name, strlen(cl->schema->name));
        if (!s || (u && !mx_conf_user_may_use(u, s)))
            return "schema no longer allowed by the configuration";
    }
    cl->user = u;
    cl->schema = s;
    cl->acct = u && !cl->admin ? u->acct : 0;
    mx_conf_ref(nc);
    cl->cfg = nc;
    mx_conf_unref(oc);
    return NULL;
}

static void on_reject_closed(uv_handle_t *h)
{
    free(h);
}

/* The console said `offline`: a new client gets the server's "shutdown in
 * progress" error in place of the greeting (as a server that is going
 * away), so that a balancer's MySQL check sees manx refuse while the
 * sessions already open go on.  The connection must still be accepted:
 * libuv stops watching a listener whose pending connection is not. */
static void reject_offline(mx_worker_t *w, uv_stream_t *server)
{
    static const char msg[] = "manx is offline (console: offline); try another server";
    uint8_t pkt[4 + 9 + sizeof(msg) - 1];
    size_t len = sizeof(pkt) - 4;
    pkt[0] = (uint8_t)len;
    pkt[1] = 0;
    pkt[2] = 0;
    pkt[3] = 0;                  /* sequence id 0: the server's first packet */
    pkt[4] = 0xff;
    pkt[5] = 1053 & 0xff;        /* ER_SERVER_SHUTDOWN */
    pkt[6] = 1053 >> 8;
    memcpy(pkt + 7, "#08S01", 6);
    memcpy(pkt + 13, msg, sizeof(msg) - 1);
    uv_tcp_t *t = malloc(sizeof(*t));
    if (!t || uv_tcp_init(&w->loop, t) != 0) {
        free(t);
        mx_warn("offline: out of memory refusing a connection");
        return;
    }
    if (uv_accept(server, (uv_stream_t *)t) == 0) {
        uv_buf_t b = uv_buf_init((char *)pkt, (unsigned)sizeof(pkt));
        (void)uv_try_write((uv_stream_t *)t, &b, 1);
    }
    uv_close((uv_handle_t *)t, on_reject_closed);
}

static void on_connection(uv_stream_t *server, int status)
{
    mx_worker_t *w = server->data;
    if (status < 0) {
        mx_warn("accept failed: %s", uv_strerror(status));
        return;
    }
    if (atomic_load_explicit(&mx_proc.offline, memory_order_relaxed)) {
        reject_offline(w, server);
        return;
    }
    w->wstats.v[MX_ST_ACCEPTED]++;
    mx_client_accept(w, server, false);
}

static void on_admin_connection(uv_stream_t *server, int status)
{
    mx_worker_t *w = server->data;
    if (status < 0) {
        mx_warn("admin accept failed: %s", uv_strerror(status));
        return;
    }
    mx_client_accept(w, server, true);
}

static void on_janitor(uv_timer_t *t)
{
    mx_worker_t *w = t->data;
    for (size_t i = 0; i < w->n_pools; i++)
        mx_pool_janitor(w->pool_list[i]);
    atomic_store_explicit(&w->pub_clients, w->n_clients, memory_order_relaxed);
    mx_stats_publish(w);
    mx_metrics_publish(w);
    if (w->stopping)
        mx_client_shutdown_step(w, uv_now(&w->loop) >= w->stop_deadline);
}

static void on_walk_close(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

static void on_wakeup(uv_async_t *a)
{
    mx_worker_t *w = a->data;
    if (w->stopping)
        return;
    w->stopping = true;
    w->stop_deadline = uv_now(&w->loop) + (uint64_t)w->cfg->shutdown_timeout_ms;
    if (!uv_is_closing((uv_handle_t *)&w->listener))
        uv_close((uv_handle_t *)&w->listener, NULL);
    if (w->has_admin && !uv_is_closing((uv_handle_t *)&w->admin_listener))
        uv_close((uv_handle_t *)&w->admin_listener, NULL);
    mx_client_shutdown_step(w, false);
}

static void on_kill(uv_async_t *a)
{
    mx_worker_t *w = a->data;
    struct { uint32_t id; bool query_only; } todo[64];
    uv_mutex_lock(&w->kill_lock);
    int n = w->n_kills;
    memcpy(todo, w->kills, (size_t)n * sizeof(todo[0]));
    w->n_kills = 0;
    uv_mutex_unlock(&w->kill_lock);
    for (int i = 0; i < n; i++)
        mx_client_kill(w, todo[i].id, todo[i].query_only);
}

void mx_worker_post_kill(mx_worker_t *w, uint32_t id, bool query_only)
{
    uv_mutex_lock(&w->kill_lock);
    if (w->n_kills < (int)(sizeof(w->kills) / sizeof(w->kills[0]))) {
        w->kills[w->n_kills].id = id;
        w->kills[w->n_kills].query_only = query_only;
        w->n_kills++;
    }
    uv_mutex_unlock(&w->kill_lock);
    uv_async_send(&w->kill_async);
}

static void worker_main(void *arg)
{
    mx_worker_t *w = arg;
    mx_log_worker = w->index;
    uv_run(&w->loop, UV_RUN_DEFAULT);
    /* Everything is closed: run once more so close callbacks fire. */
    uv_walk(&w->loop, on_walk_close, NULL);
    uv_run(&w->loop, UV_RUN_DEFAULT);
}

int mx_listen_socket(const char *addr)
{
    return make_listen_socket(addr);
}

int mx_worker_init(mx_worker_t *w, int index, int listen_fd, mx_config_t *cfg)
{
    memset(w, 0, sizeof(*w));
    w->index = index;
    mx_list_init(&w->clients);
    int fd = fcntl(listen_fd, F_DUPFD_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    w->listen_fd = fd;
    int rc = uv_loop_init(&w->loop);
    if (rc < 0)
        return rc;
    w->pools = calloc((size_t)MX_MAX_HOST_SLOTS * MX_MAX_ACCOUNTS, sizeof(*w->pools));
    if (!w->pools || !(w->stats = mx_stats_new(index)))
        return -ENOMEM;
    mx_conf_ref(cfg);
    if (!adopt(w, cfg)) {
        mx_conf_unref(cfg);
        return -ENOMEM;
    }
    if ((rc = uv_tcp_init(&w->loop, &w->listener)) < 0)
        return rc;
    w->listener.data = w;
    if ((rc = uv_tcp_open(&w->listener, fd)) < 0)
        return rc;
    if ((rc = uv_listen((uv_stream_t *)&w->listener, 1024, on_connection)) < 0)
        return rc;
    if (index == 0 && mx_proc.admin_fd >= 0) {
        /* The console is served by the first worker. */
        int afd = fcntl(mx_proc.admin_fd, F_DUPFD_CLOEXEC, 0);
        if (afd < 0)
            return -errno;
        if ((rc = uv_tcp_init(&w->loop, &w->admin_listener)) < 0)
            return rc;
        w->admin_listener.data = w;
        w->has_admin = true;
        if ((rc = uv_async_init(&w->loop, &w->console_async, mx_admin_answer)) < 0)
            return rc;
        w->console_async.data = w;
        if ((rc = uv_tcp_open(&w->admin_listener, afd)) < 0 ||
            (rc = uv_listen((uv_stream_t *)&w->admin_listener, 64, on_admin_connection)) < 0)
            return rc;
    }
    if ((rc = uv_async_init(&w->loop, &w->wakeup, on_wakeup)) < 0)
        return rc;
    w->wakeup.data = w;
    if ((rc = uv_async_init(&w->loop, &w->gen_async, on_gen)) < 0)
        return rc;
    w->gen_async.data = w;
    if ((rc = uv_mutex_init(&w->kill_lock)) < 0 || (rc = uv_async_init(&w->loop, &w->kill_async, on_kill)) < 0)
        return rc;
    w->kill_async.data = w;
    uv_timer_init(&w->loop, &w->janitor);
    w->janitor.data = w;
    uv_timer_start(&w->janitor, on_janitor, 100, 100);
    return 0;
}

int mx_worker_start(mx_worker_t *w)
{
    return uv_thread_create(&w->thread, worker_main, w);
}

void mx_worker_stop(mx_worker_t *w)
{
    uv_async_send(&w->wakeup);
}

void mx_worker_join(mx_worker_t *w)
{
    uv_thread_join(&w->thread);
    mx_worker_free(w);
}

void mx_worker_free(mx_worker_t *w)
{
    uv_loop_close(&w->loop);
    uv_mutex_destroy(&w->kill_lock);
    mx_stats_free(w->stats);
    w->stats = NULL;
    for (size_t i = 0; i < w->n_buf_free; i++)
        free(w->buf_free[i]);
    free(w->buf_free);
    for (size_t i = 0; i < w->n_pools; i++) {
        mx_conf_unref(w->pool_list[i]->cfg);
        free(w->pool_list[i]);
    }
    free(w->pool_list);
    free(w->pools);
    free(w->sha2_cached);
    mx_conf_unref(atomic_exchange(&w->next_cfg, NULL));
    mx_conf_unref(w->cfg);
    w->cfg = NULL;
}

void mx_worker_finish(mx_worker_t *w)
{
    if (w->finished)
        return;
    w->finished = true;
    for (size_t i = 0; i < w->n_pools; i++)
        mx_pool_close_all(w->pool_list[i], "shutdown");
    uv_timer_stop(&w->janitor);
    uv_close((uv_handle_t *)&w->janitor, NULL);
    uv_close((uv_handle_t *)&w->wakeup, NULL);
    uv_close((uv_handle_t *)&w->gen_async, NULL);
    uv_close((uv_handle_t *)&w->kill_async, NULL);
    if (w->has_admin)
        uv_close((uv_handle_t *)&w->console_async, NULL);
}
