/* coordination = etcd: instances agree on each dataHost's writer through
 * etcd's v3 API (its JSON gateway, over libcurl's multi interface on the
 * heartbeat's libuv loop; messages in router/etcd_json.c).  Nothing here
 * blocks the loop but the last, bounded lease revoke at shutdown.
 *
 * Keys under <etcd_prefix>/<cluster_name>/ (see README, "Several manx"):
 *   instance/<name>              leased: this instance is alive
 *   datahost/<dh>/decider        leased, created only if absent: who decides
 *   datahost/<dh>/writer         not leased: the agreed writer; created once,
 *                                then changed only by a compare-and-swap on
 *                                its mod_revision and the decider's term
 *   datahost/<dh>/view/<name>    leased: each instance's heartbeat view
 *
 * Only the decider proposes a switch on a heartbeat, and only when a
 * majority of the live instances' views say the writer is DOWN.  Nobody
 * moves writes on its own decision: every instance follows the writer key
 * (the CAS answer or the watch).  Without etcd for etcd_timeout an
 * instance is LOST: it keeps the last agreed writer and never switches;
 * when etcd answers again it reads everything back and watches again.
 *
 * The client does one unary request at a time (plus the watch stream),
 * each step chosen by tick() from what is missing: a lease, the instance
 * key, a full read, the watch, views to publish, deciders to elect, the
 * keepalive.  One step per answer keeps the states few. */
#include "coord-t.h"
#include "coord_etcd.h"
#include "etcd_http.h"
#include "etcd_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { R_GRANT, R_KEEPALIVE, R_REGISTER, R_RANGE, R_WATCH, R_CREATE_WRITER, R_VIEW, R_CAMPAIGN, R_SWITCH };
enum { TICK_MS = 100 };

typedef struct mx_etcd_s etcd_t;

typedef struct req_s {
    mx_http_req_t *http;
    int kind;
    int dh_slot;                 /* R_CREATE_WRITER, R_VIEW, R_CAMPAIGN, R_SWITCH */
    int to;                      /* R_SWITCH: proposed writeHost index */
    const char *why;             /* R_SWITCH (static) */
    char *value;                 /* R_SWITCH: the writer value proposed */
} req_t;

/* A key as last read or watched (the cache of the prefix). */
typedef struct {
    char *key, *value;
    size_t value_len;
    int64_t create_rev, mod_rev, version;
} entry_t;

/* Per dataHost slot: what this instance must still do in etcd. */
typedef struct {
    bool view_dirty;             /* publish this instance's view */
    bool writer_checked;         /* the writer key was created or adopted after the last read */
    int64_t term;                /* create_revision of the decider key when it is ours, else 0 */
    int64_t applied_rev;         /* mod_revision of the writer value last applied */
} edh_t;

struct mx_etcd_s {
    mx_coord_t *c;
    mx_http_t *http;
    uv_timer_t tick;
    char ep[MX_ETCD_MAX_ENDPOINTS][300];
    int n_ep, cur_ep;
    char prefix[512];            /* "<etcd_prefix>/<cluster>/" */
    size_t prefix_len;
    int64_t lease;               /* 0: none (grant one) */
    bool registered, synced;     /* instance key put; prefix read since the last trouble */
    uint64_t last_ok_ms, last_keepalive_ms, next_try_ms;
    req_t *unary;                /* the request in flight, NULL none */
    req_t *watch;                /* the watch stream, NULL none */
    int64_t watch_from;          /* revision the next watch starts at */
    entry_t *cache;
    size_t n_cache, cap_cache;
    edh_t *dhs;                  /* MX_MAX_DH_SLOTS */
    bool lost, stopping;
    bool tls;                    /* endpoints without a scheme use https */
    bool watch_bad;              /* the watch sent something wrong: drop it, read again */
    bool recheck;                /* a proposal came while busy: health looks again when idle */
    char reg_note[160];          /* why the instance key cannot be created, "" none */
};

static void tick(etcd_t *e);
static void on_tick(uv_timer_t *t);

static uint64_t now_ms(etcd_t *e)
{
    return uv_now(e->c->loop);
}

/* ---- the cache of the prefix -------------------------------------------------- */

static entry_t *cache_find(etcd_t *e, const char *key)
{
    for (size_t i = 0; i < e->n_cache; i++)
        if (strcmp(e->cache[i].key, key) == 0)
            return &e->cache[i];
    return NULL;
}

static void cache_del(etcd_t *e, const char *key)
{
    entry_t *x = cache_find(e, key);
    if (!x)
        return;
    free(x->key);
    free(x->value);
    *x = e->cache[--e->n_cache];
}

static void cache_clear(etcd_t *e)
{
    for (size_t i = 0; i < e->n_cache; i++) {
        free(e->cache[i].key);
        free(e->cache[i].value);
    }
    e->n_cache = 0;
}

/* Keys outside the prefix or with a NUL are not ours and are skipped. */
static void cache_put(etcd_t *e, const mx_etcd_kv_t *kv)
{
    if (kv->key_len != strlen(kv->key) || strncmp(kv->key, e->prefix, e->prefix_len) != 0)
        return;
    entry_t *x = cache_find(e, kv->key);
    if (!x) {
        if (e->n_cache == e->cap_cache) {
            size_t cap = e->cap_cache ? e->cap_cache * 2 : 32;
            entry_t *n = realloc(e->cache, cap * sizeof(*n));
            if (!n)
                return;
            e->cache = n;
            e->cap_cache = cap;
        }
        x = &e->cache[e->n_cache];
        memset(x, 0, sizeof(*x));
        if (!(x->key = strdup(kv->key)))
            return;
        e->n_cache++;
    }
    char *v = malloc(kv->value_len + 1);
    if (!v)
        return;
    memcpy(v, kv->value, kv->value_len + 1);
    free(x->value);
    x->value = v;
    x->value_len = kv->value_len;
    x->create_rev = kv->create_revision;
    x->mod_rev = kv->mod_revision;
    x->version = kv->version;
}

static void dh_key(etcd_t *e, char *out, size_t n, const char *dh, const char *what)
{
    snprintf(out, n, "%sdatahost/%s/%s", e->prefix, dh, what);
}

/* ---- requests in flight ----------------------------------------------------------- */

static void req_free(req_t *r)
{
    if (!r)
        return;
    mx_http_req_free(r->http);
    free(r->value);
    free(r);
}

/* Send `body` (taken) to path on the current endpoint. */
static req_t *send_req(etcd_t *e, int kind, const char *path, char *body, int dh_slot)
{
    req_t *r = calloc(1, sizeof(*r));
    if (!r || !body) {
        free(r);
        free(body);
        return NULL;
    }
    r->kind = kind;
    r->dh_slot = dh_slot;
    char url[400];
    const char *ep = e->ep[e->cur_ep];
    snprintf(url, sizeof(url), "%s%s%s", strstr(ep, "://") ? "" : e->tls ? "https://" : "http://", ep, path);
    long tmo = e->c->cfg->etcd_timeout_ms / 2 > 100 ? e->c->cfg->etcd_timeout_ms / 2 : 100;
    r->http = mx_http_post(e->http, url, body, tmo, kind == R_WATCH ? 0 : tmo, kind == R_KEEPALIVE, r);
    if (!r->http) {
        free(r);
        return NULL;
    }
    return r;
}

static bool unary(etcd_t *e, int kind, const char *path, char *body, int dh_slot)
{
    e->unary = send_req(e, kind, path, body, dh_slot);
    return e->unary != NULL;
}

static void drop_watch(etcd_t *e)
{
    req_t *w = e->watch;
    if (!w)
        return;
    e->watch = NULL;
    mx_http_cancel(e->http, w->http);
    w->http = NULL;
    req_free(w);
}

static void watch_line(etcd_t *e, const char *line, size_t len);

/* The watch's complete lines, after curl's callbacks (handling one may
 * send requests or drop the watch, which curl forbids inside them). */
static void pump_watch(void *arg)
{
    etcd_t *e = arg;
    while (e->watch && !e->stopping) {
        mx_http_req_t *w = e->watch->http;
        char *nl = w->len ? memchr(w->buf, '\n', w->len) : NULL;
        if (!nl)
            break;
        size_t n = (size_t)(nl - w->buf);
        char *line = malloc(n + 1);
        if (!line)
            break;
        memcpy(line, w->buf, n);
        line[n] = '\0';
        mx_http_consume(w, n + 1);
        watch_line(e, line, n);
        free(line);
        if (e->watch_bad) {
            e->watch_bad = false;
            drop_watch(e);
            tick(e);
        }
    }
}

/* ---- state ---------------------------------------------------------------------- */

static void set_state(etcd_t *e, const char *state)
{
    mx_coord_t *c = e->c;
    uv_mutex_lock(&c->lock);
    c->state = state;
    c->connected = strcmp(state, "LOST") != 0;
    uv_mutex_unlock(&c->lock);
}

/* No decider role without etcd: a switch could not be agreed anyway, and
 * fencing must not act on a stale role. */
static void lose_roles(etcd_t *e, bool lease_gone)
{
    mx_coord_t *c = e->c;
    uv_mutex_lock(&c->lock);
    for (size_t i = 0; i < MX_MAX_DH_SLOTS; i++) {
        if (c->dhs[i])
            c->dhs[i]->i_decide = false;
        /* With the lease alive our decider keys are still ours: the term
         * is kept so the role comes back after a read (else nobody could
         * be elected until the lease we keep alive ends). */
        if (lease_gone)
            e->dhs[i].term = 0;
    }
    uv_mutex_unlock(&c->lock);
}

/* Something failed: maybe this endpoint, maybe etcd.  Try the next
 * endpoint, read everything again before trusting the cache. */
static void trouble(etcd_t *e, const char *what, const char *detail)
{
    mx_coord_t *c = e->c;
    if (!e->lost)
        c->log(CO_LOG_WARNING, "etcd %s: %s failed: %s", e->ep[e->cur_ep], what, detail);
    e->cur_ep = (e->cur_ep + 1) % e->n_ep;
    e->synced = false;
    drop_watch(e);
    e->next_try_ms = now_ms(e) + 200;
}

static void answered(etcd_t *e)
{
    e->last_ok_ms = now_ms(e);
    if (e->lost) {
        e->lost = false;
        e->c->log(CO_LOG_WARNING, "etcd %s answers again: reading the agreed writers back", e->ep[e->cur_ep]);
        set_state(e, "SYNCING");
    }
}

static void check_lost(etcd_t *e)
{
    mx_coord_t *c = e->c;
    if (e->lost || now_ms(e) - e->last_ok_ms <= (uint64_t)c->cfg->etcd_timeout_ms)
        return;
    e->lost = true;
    e->synced = false;
    drop_watch(e);
    lose_roles(e, false);
    uv_mutex_lock(&c->lock);
    c->lost_since_ms = uv_hrtime() / 1000000 - (now_ms(e) - e->last_ok_ms);
    uv_mutex_unlock(&c->lock);
    set_state(e, "LOST");
    c->log(CO_LOG_ERROR, "etcd: no answer from %s for %d ms: LOST; writes stay on the last agreed writers and "
           "this instance will not switch until etcd answers", c->cfg->etcd_endpoints, c->cfg->etcd_timeout_ms);
    for (size_t i = 0; i < c->cfg->n_datahosts; i++)
        mx__coord_note(c, &c->cfg->datahosts[i], "etcd unreachable: keeping the last agreed writer, not switching");
}

/* ---- applying what etcd says ---------------------------------------------------- */

static void update_decider(etcd_t *e, const mx_datahost_t *dh)
{
    mx_coord_t *c = e->c;
    mx_coord_dh_t *d = mx__coord_dh(c, dh);
    if (!d)
        return;
    char key[1024];
    dh_key(e, key, sizeof(key), dh->name, "decider");
    entry_t *x = cache_find(e, key);
    bool mine = x && strcmp(x->value, c->instance) == 0 && x->create_rev == e->dhs[dh->index].term &&
                e->dhs[dh->index].term != 0;
    bool was = d->i_decide;
    uv_mutex_lock(&c->lock);
    snprintf(d->decider, sizeof(d->decider), "%s", x ? x->value : "");
    d->i_decide = mine && !e->lost;
    uv_mutex_unlock(&c->lock);
    if (mine && !was) {
        c->log(CO_LOG_WARNING, "dataHost %s: this instance (%s) decides switch-overs now (etcd revision %lld)",
               dh->name, c->instance, (long long)x->create_rev);
        mx__coord_note(c, dh, "%s", "");
        mx__coord_took_role(c, dh);
        /* A writer that went down before we decided is seen to now. */
        mx__health_recheck(c->h);
    } else if (!mine && was) {
        c->log(CO_LOG_WARNING, "dataHost %s: this instance no longer decides (decider: %s)", dh->name,
               x ? x->value : "none");
    }
}

/* The writer key of dh says `w` at revision rev: move writes there. */
static void apply_writer(etcd_t *e, const mx_datahost_t *dh, const entry_t *x)
{
    mx_coord_t *c = e->c;
    mx_coord_dh_t *d = mx__coord_dh(c, dh);
    mx_etcd_writer_t w;
    if (!d)
        return;
    if (mx_etcd_writer_parse(x->value, x->value_len, &w) < 0) {
        c->log(CO_LOG_ERROR, "dataHost %s: the writer key in etcd holds no writer manx can read: ignored", dh->name);
        mx__coord_note(c, dh, "writer key in etcd unreadable: keeping %s", dh->write_hosts[mx_health_writer(c->pub, (size_t)dh->index)]->name);
        return;
    }
    int idx = -1;
    for (size_t i = 0; i < dh->n_write_hosts; i++)
        if (strcmp(dh->write_hosts[i]->name, w.host) == 0)
            idx = (int)i;
    uv_mutex_lock(&c->lock);
    snprintf(d->writer, sizeof(d->writer), "%s", w.host);
    d->writer_index = idx;
    d->writer_rev = x->mod_rev;
    uv_mutex_unlock(&c->lock);
    if (idx < 0) {
        c->log(CO_LOG_ERROR, "dataHost %s: etcd says writes go to %s, a host this configuration does not list: "
               "keeping %s (configurations out of step?)", dh->name, w.host,
               dh->write_hosts[mx_health_writer(c->pub, (size_t)dh->index)]->name);
        mx__coord_note(c, dh, "agreed writer %s is not in this configuration", w.host);
        return;
    }
    if (x->mod_rev <= e->dhs[dh->index].applied_rev && idx == mx_health_writer(c->pub, (size_t)dh->index))
        return;
    e->dhs[dh->index].applied_rev = x->mod_rev;
    if (idx != mx_health_writer(c->pub, (size_t)dh->index)) {
        mx__coord_count(c, dh, MX_COORD_APPLIED);
        mx__health_apply(c->h, dh, idx, "etcd", w.by, x->mod_rev);
    }
}

/* Whether dh's view key of instance `inst` says host `name` is DOWN.  An
 * instance without a view (just started) counts as not seeing it down. */
static bool view_says_down(etcd_t *e, const mx_datahost_t *dh, const char *inst, const char *name)
{
    char key[1024];
    snprintf(key, sizeof(key), "%sdatahost/%s/view/%s", e->prefix, dh->name, inst);
    entry_t *x = cache_find(e, key);
    mx_etcd_view_t v;
    if (!x || mx_etcd_view_parse(x->value, x->value_len, &v) < 0)
        return false;
    for (size_t i = 0; i < v.n; i++)
        if (strcmp(v.name[i], name) == 0)
            return v.status[i] == MX_HOST_DOWN;
    return false;
}

/* Live instances (their instance keys) and how many see `name` DOWN; this
 * instance counts by its own current view. */
static void count_views(etcd_t *e, const mx_datahost_t *dh, const mx_host_t *host, int *live, int *down)
{
    char pre[1024];
    snprintf(pre, sizeof(pre), "%sinstance/", e->prefix);
    size_t pl = strlen(pre);
    *live = *down = 0;
    bool me = false;
    for (size_t i = 0; i < e->n_cache; i++) {
        if (strncmp(e->cache[i].key, pre, pl) != 0)
            continue;
        const char *inst = e->cache[i].key + pl;
        (*live)++;
        if (strcmp(inst, e->c->instance) == 0) {
            me = true;
            *down += mx_health_status(e->c->pub, host->index) == MX_HOST_DOWN;
        } else {
            *down += view_says_down(e, dh, inst, host->name);
        }
    }
    if (!me) {
        (*live)++;
        *down += mx_health_status(e->c->pub, host->index) == MX_HOST_DOWN;
    }
}

/* ---- requests ------------------------------------------------------------------- */

static char *writer_value(etcd_t *e, const mx_datahost_t *dh, int idx, int64_t epoch, const char *why)
{
    mx_etcd_writer_t w;
    memset(&w, 0, sizeof(w));
    w.index = idx;
    snprintf(w.host, sizeof(w.host), "%s", dh->write_hosts[idx]->name);
    w.epoch = epoch;
    snprintf(w.by, sizeof(w.by), "%s", e->c->instance);
    snprintf(w.why, sizeof(w.why), "%s", why);
    return mx_etcd_writer_json(&w);
}

static bool send_create_writer(etcd_t *e, const mx_datahost_t *dh)
{
    char key[1024];
    dh_key(e, key, sizeof(key), dh->name, "writer");
    char *val = writer_value(e, dh, mx_health_writer(e->c->pub, (size_t)dh->index), 1, "start");
    if (!val)
        return false;
    mx_etcd_cmp_t cmp = {.key = key, .klen = strlen(key), .target = MX_ETCD_CMP_CREATE, .rev = 0};
    mx_etcd_op_t ok = {.kind = MX_ETCD_OP_PUT, .key = key, .klen = strlen(key), .value = val, .vlen = strlen(val)};
    mx_etcd_op_t fail = {.kind = MX_ETCD_OP_RANGE, .key = key, .klen = strlen(key)};
    char *body = mx_etcd_req_txn(&cmp, 1, &ok, 1, &fail, 1);
    free(val);
    return unary(e, R_CREATE_WRITER, "/v3/kv/txn", body, dh->index);
}

static bool send_view(etcd_t *e, const mx_datahost_t *dh)
{
    mx_etcd_view_t v;
    memset(&v, 0, sizeof(v));
    for (size_t w = 0; w < dh->n_write_hosts; w++) {
        const mx_host_t *hs[1 + MX_MAX_HOSTS_PER_LIST];
        size_t n = 0;
        hs[n++] = dh->write_hosts[w];
        for (size_t r = 0; r < dh->write_hosts[w]->n_read_hosts; r++)
            hs[n++] = dh->write_hosts[w]->read_hosts[r];
        for (size_t k = 0; k < n && v.n < MX_ETCD_VIEW_MAX; k++) {
            snprintf(v.name[v.n], sizeof(v.name[v.n]), "%s", hs[k]->name);
            v.status[v.n++] = mx_health_status(e->c->pub, hs[k]->index);
        }
    }
    char key[1024];
    snprintf(key, sizeof(key), "%sdatahost/%s/view/%s", e->prefix, dh->name, e->c->instance);
    char *val = mx_etcd_view_json(&v);
    if (!val)
        return false;
    char *body = mx_etcd_req_put(key, strlen(key), val, strlen(val), e->lease);
    free(val);
    return unary(e, R_VIEW, "/v3/kv/put", body, dh->index);
}

static bool send_campaign(etcd_t *e, const mx_datahost_t *dh)
{
    char key[1024];
    dh_key(e, key, sizeof(key), dh->name, "decider");
    const char *me = e->c->instance;
    mx_etcd_cmp_t cmp = {.key = key, .klen = strlen(key), .target = MX_ETCD_CMP_CREATE, .rev = 0};
    mx_etcd_op_t ok = {.kind = MX_ETCD_OP_PUT, .key = key, .klen = strlen(key), .value = me, .vlen = strlen(me),
                       .lease = e->lease};
    mx_etcd_op_t fail = {.kind = MX_ETCD_OP_RANGE, .key = key, .klen = strlen(key)};
    return unary(e, R_CAMPAIGN, "/v3/kv/txn", mx_etcd_req_txn(&cmp, 1, &ok, 1, &fail, 1), dh->index);
}

static bool send_register(etcd_t *e)
{
    char key[1024], val[400];
    snprintf(key, sizeof(key), "%sinstance/%s", e->prefix, e->c->instance);
    snprintf(val, sizeof(val), "{\"id\":\"%s\",\"pid\":%ld}", e->c->instance, (long)getpid());
    mx_etcd_cmp_t cmp = {.key = key, .klen = strlen(key), .target = MX_ETCD_CMP_CREATE, .rev = 0};
    mx_etcd_op_t ok = {.kind = MX_ETCD_OP_PUT, .key = key, .klen = strlen(key), .value = val, .vlen = strlen(val),
                       .lease = e->lease};
    mx_etcd_op_t fail = {.kind = MX_ETCD_OP_RANGE, .key = key, .klen = strlen(key)};
    return unary(e, R_REGISTER, "/v3/kv/txn", mx_etcd_req_txn(&cmp, 1, &ok, 1, &fail, 1), -1);
}

static bool send_range(etcd_t *e)
{
    char end[sizeof(e->prefix)];
    size_t el = mx_etcd_prefix_end(e->prefix, e->prefix_len, end);
    return unary(e, R_RANGE, "/v3/kv/range", mx_etcd_req_range(e->prefix, e->prefix_len, end, el), -1);
}

static void start_watch(etcd_t *e)
{
    char end[sizeof(e->prefix)];
    size_t el = mx_etcd_prefix_end(e->prefix, e->prefix_len, end);
    e->watch = send_req(e, R_WATCH, "/v3/watch",
                        mx_etcd_req_watch(e->prefix, e->prefix_len, end, el, e->watch_from, false), -1);
}

/* The next thing to do, if nothing is in flight. */
static void tick(etcd_t *e)
{
    mx_coord_t *c = e->c;
    check_lost(e);
    if (e->unary || e->stopping || now_ms(e) < e->next_try_ms)
        return;
    const mx_config_t *cfg = c->cfg;
    /* Often enough that a healthy etcd answers within etcd_timeout. */
    uint64_t ka_every = (uint64_t)(cfg->etcd_lease_ttl_ms < cfg->etcd_timeout_ms ? cfg->etcd_lease_ttl_ms
                                                                                  : cfg->etcd_timeout_ms) / 3;
    if (!e->lease) {
        char *body = mx_etcd_req_lease_grant((cfg->etcd_lease_ttl_ms + 999) / 1000);
        unary(e, R_GRANT, "/v3/lease/grant", body, -1);
        return;
    }
    if (now_ms(e) - e->last_keepalive_ms >= ka_every || e->lost) {
        unary(e, R_KEEPALIVE, "/v3/lease/keepalive", mx_etcd_req_lease_id(e->lease), -1);
        return;
    }
    if (!e->registered) {
        send_register(e);
        return;
    }
    if (!e->synced) {
        send_range(e);
        return;
    }
    if (!e->watch) {
        start_watch(e);
        if (!e->watch)
            trouble(e, "watch", "cannot start the request");
    }
    for (size_t i = 0; i < cfg->n_datahosts; i++) {
        const mx_datahost_t *dh = &cfg->datahosts[i];
        edh_t *x = &e->dhs[dh->index];
        if (!x->writer_checked) {
            send_create_writer(e, dh);
            return;
        }
    }
    for (size_t i = 0; i < cfg->n_datahosts; i++) {
        const mx_datahost_t *dh = &cfg->datahosts[i];
        if (e->dhs[dh->index].view_dirty) {
            e->dhs[dh->index].view_dirty = false;
            send_view(e, dh);
            return;
        }
    }
    for (size_t i = 0; i < cfg->n_datahosts; i++) {
        const mx_datahost_t *dh = &cfg->datahosts[i];
        char key[1024];
        dh_key(e, key, sizeof(key), dh->name, "decider");
        if (!cache_find(e, key)) {
            send_campaign(e, dh);
            return;
        }
    }
    if (e->recheck) {
        e->recheck = false;
        mx__health_recheck(c->h);
        if (e->unary)
            return;
    }
    if (strcmp(c->state, "SYNCED") != 0) {
        set_state(e, "SYNCED");
        c->log(CO_LOG_INFO, "etcd: in step with cluster %s through %s", cfg->cluster_name, e->ep[e->cur_ep]);
        for (size_t i = 0; i < cfg->n_datahosts; i++)
            mx__coord_note(c, &cfg->datahosts[i], "%s", "");
    }
}

static void on_tick(uv_timer_t *t)
{
    tick(t->data);
}

/* ---- answers -------------------------------------------------------------------- */

static const mx_datahost_t *dh_of_slot(etcd_t *e, int slot)
{
    const mx_config_t *cfg = e->c->cfg;
    for (size_t i = 0; i < cfg->n_datahosts; i++)
        if (cfg->datahosts[i].index == slot)
            return &cfg->datahosts[i];
    return NULL;
}

static void after_range(etcd_t *e, mx_etcd_resp_t *resp)
{
    cache_clear(e);
    for (size_t i = 0; i < resp->n_kvs; i++)
        cache_put(e, &resp->kvs[i]);
    e->synced = true;
    e->watch_from = resp->revision + 1;
    const mx_config_t *cfg = e->c->cfg;
    for (size_t i = 0; i < cfg->n_datahosts; i++) {
        const mx_datahost_t *dh = &cfg->datahosts[i];
        char key[1024];
        dh_key(e, key, sizeof(key), dh->name, "writer");
        entry_t *x = cache_find(e, key);
        e->dhs[dh->index].writer_checked = x != NULL;
        e->dhs[dh->index].view_dirty = true;
        if (x)
            apply_writer(e, dh, x);
        update_decider(e, dh);
    }
}

static void after_switch(etcd_t *e, req_t *r, mx_etcd_resp_t *resp)
{
    mx_coord_t *c = e->c;
    const mx_datahost_t *dh = dh_of_slot(e, r->dh_slot);
    if (!dh)
        return;
    char key[1024];
    dh_key(e, key, sizeof(key), dh->name, "writer");
    if (resp->succeeded) {
        mx__coord_count(c, dh, MX_COORD_WON);
        entry_t *x = cache_find(e, key);
        mx_etcd_kv_t kv = {.key = key, .key_len = strlen(key), .value = r->value, .value_len = strlen(r->value),
                           .create_revision = x ? x->create_rev : resp->revision, .mod_revision = resp->revision,
                           .version = x ? x->version + 1 : 1};
        cache_put(e, &kv);
        if ((x = cache_find(e, key)) != NULL)
            apply_writer(e, dh, x);
        return;
    }
    mx__coord_count(c, dh, MX_COORD_LOST);
    /* The failure branch read the writer and the decider: a decider key
     * it did not return is gone (our term ended). */
    char dkey[1024];
    dh_key(e, dkey, sizeof(dkey), dh->name, "decider");
    bool decider_read = false;
    for (size_t i = 0; i < resp->n_kvs; i++) {
        cache_put(e, &resp->kvs[i]);
        decider_read |= strcmp(resp->kvs[i].key, dkey) == 0;
    }
    if (!decider_read)
        cache_del(e, dkey);
    c->log(CO_LOG_WARNING, "dataHost %s: proposal to move writes to %s lost (the writer or the decider changed in "
           "etcd meanwhile): following etcd", dh->name, dh->write_hosts[r->to]->name);
    entry_t *x = cache_find(e, key);
    if (x)
        apply_writer(e, dh, x);
    update_decider(e, dh);
}

static void after_txn(etcd_t *e, req_t *r, mx_etcd_resp_t *resp)
{
    mx_coord_t *c = e->c;
    const mx_datahost_t *dh = dh_of_slot(e, r->dh_slot);
    char key[1024];
    if (r->kind == R_REGISTER) {
        if (resp->succeeded) {
            e->registered = true;
            e->reg_note[0] = '\0';
            c->log(CO_LOG_INFO, "etcd: instance %s registered in cluster %s (lease %lld)", c->instance,
                   c->cfg->cluster_name, (long long)e->lease);
        } else {
            if (!e->reg_note[0])
                c->log(CO_LOG_ERROR, "etcd: another live instance is called %s in cluster %s (or this one's last "
                       "run, until its lease ends): waiting; give each instance its own instance_name",
                       c->instance, c->cfg->cluster_name);
            snprintf(e->reg_note, sizeof(e->reg_note), "instance_name %s is taken in etcd", c->instance);
            e->next_try_ms = now_ms(e) + 500;
        }
        return;
    }
    if (!dh)
        return;
    if (r->kind == R_CREATE_WRITER) {
        e->dhs[dh->index].writer_checked = true;
        dh_key(e, key, sizeof(key), dh->name, "writer");
        if (resp->succeeded) {
            c->log(CO_LOG_INFO, "dataHost %s: agreed writer created in etcd: %s (index %d)", dh->name,
                   dh->write_hosts[mx_health_writer(c->pub, (size_t)dh->index)]->name,
                   mx_health_writer(c->pub, (size_t)dh->index));
            return; /* the watch brings the key */
        }
        for (size_t i = 0; i < resp->n_kvs; i++)
            cache_put(e, &resp->kvs[i]);
        entry_t *x = cache_find(e, key);
        if (x)
            apply_writer(e, dh, x);
        return;
    }
    if (r->kind == R_CAMPAIGN) {
        dh_key(e, key, sizeof(key), dh->name, "decider");
        if (resp->succeeded) {
            e->dhs[dh->index].term = resp->revision;
            mx_etcd_kv_t kv = {.key = key, .key_len = strlen(key), .value = c->instance,
                               .value_len = strlen(c->instance), .create_revision = resp->revision,
                               .mod_revision = resp->revision, .version = 1};
            cache_put(e, &kv);
        } else {
            for (size_t i = 0; i < resp->n_kvs; i++)
                cache_put(e, &resp->kvs[i]);
        }
        update_decider(e, dh);
        return;
    }
    if (r->kind == R_SWITCH)
        after_switch(e, r, resp);
}

static void finish(void *arg, mx_http_req_t *hr, int rc, long status)
{
    etcd_t *e = arg;
    req_t *r = hr->user;
    if (r == e->watch)
        e->watch = NULL;
    else if (r == e->unary)
        e->unary = NULL;
    if (e->stopping) {
        req_free(r);
        return;
    }
    static const char *const names[] = {"lease grant", "keepalive", "register", "range", "watch",
                                        "create writer", "view", "campaign", "switch"};
    const char *what = names[r->kind];
    if (r->kind == R_WATCH) {
        /* The stream ended: read again and watch again (nothing is lost: the
         * new watch starts after what the read saw). */
        if (!e->lost)
            e->c->log(CO_LOG_INFO, "etcd: watch ended (%s): reading again", mx_http_strerror(rc));
        e->synced = false;
        req_free(r);
        tick(e);
        return;
    }
    bool ok = rc == 0 || (r->kind == R_KEEPALIVE && hr->got_line);
    if (!ok || status == 0 || status >= 500) {
        char detail[300];
        snprintf(detail, sizeof(detail), "%s (HTTP %ld)",
                 hr->too_big ? "answer too large" : hr->error[0] ? hr->error : mx_http_strerror(rc), status);
        trouble(e, what, detail);
        req_free(r);
        return;
    }
    mx_etcd_resp_t resp;
    size_t len = hr->len;
    if (r->kind == R_KEEPALIVE) {
        const char *nl = memchr(hr->buf, '\n', hr->len);
        len = nl ? (size_t)(nl - hr->buf) : hr->len;
    }
    if (mx_etcd_parse(hr->buf ? hr->buf : "", len, &resp) < 0) {
        mx_etcd_resp_free(&resp);
        trouble(e, what, "unreadable answer");
        req_free(r);
        return;
    }
    answered(e);
    if (resp.code) {
        e->c->log(CO_LOG_WARNING, "etcd: %s refused: %s (code %d)", what, resp.error, resp.code);
        if (resp.code == 5) { /* NOT_FOUND: our lease is gone */
            e->lease = 0;
            e->registered = false;
            lose_roles(e, true);
        }
        e->next_try_ms = now_ms(e) + 200;
    } else if (r->kind == R_GRANT) {
        lose_roles(e, true);
        e->lease = resp.id;
        e->registered = false;
        e->last_keepalive_ms = now_ms(e);
    } else if (r->kind == R_KEEPALIVE) {
        e->last_keepalive_ms = now_ms(e);
        if (resp.ttl <= 0) {
            e->c->log(CO_LOG_WARNING, "etcd: lease %lld has expired: registering again", (long long)e->lease);
            e->lease = 0;
            e->registered = false;
            e->synced = false;
            drop_watch(e);
            lose_roles(e, true);
        }
    } else if (r->kind == R_RANGE) {
        after_range(e, &resp);
    } else if (r->kind != R_VIEW) {
        after_txn(e, r, &resp);
    }
    mx_etcd_resp_free(&resp);
    req_free(r);
    tick(e);
}

/* ---- the watch ------------------------------------------------------------------ */

static void watch_event(etcd_t *e, const mx_etcd_event_t *ev)
{
    mx_coord_t *c = e->c;
    const char *k = ev->kv.key;
    if (strncmp(k, e->prefix, e->prefix_len) != 0)
        return;
    if (ev->deleted)
        cache_del(e, k);
    else
        cache_put(e, &ev->kv);
    const char *rest = k + e->prefix_len;
    if (strncmp(rest, "datahost/", 9) != 0)
        return;
    rest += 9;
    const char *slash = strchr(rest, '/');
    if (!slash || (size_t)(slash - rest) >= MX_NAME_MAX)
        return;
    char name[MX_NAME_MAX];
    memcpy(name, rest, (size_t)(slash - rest));
    name[slash - rest] = '\0';
    const mx_datahost_t *dh = mx__coord_find_dh(c, name);
    if (!dh)
        return;
    if (strcmp(slash + 1, "writer") == 0 && ev->deleted) {
        /* Deleted by hand: made again from the writer in use (tick). */
        c->log(CO_LOG_WARNING, "dataHost %s: the writer key was deleted from etcd: creating it again from %s",
               dh->name, dh->write_hosts[mx_health_writer(c->pub, (size_t)dh->index)]->name);
        e->dhs[dh->index].writer_checked = false;
    } else if (strcmp(slash + 1, "writer") == 0) {
        entry_t *x = cache_find(e, k);
        if (x)
            apply_writer(e, dh, x);
    } else if (strcmp(slash + 1, "decider") == 0) {
        update_decider(e, dh);
    } else if (strncmp(slash + 1, "view/", 5) == 0) {
        mx_coord_dh_t *d = mx__coord_dh(c, dh);
        if (d && d->i_decide)
            mx__health_recheck(c->h);
    }
}

static void watch_line(etcd_t *e, const char *line, size_t len)
{
    mx_etcd_watch_msg_t m;
    if (len == 0)
        return;
    if (mx_etcd_parse_watch(line, len, &m) < 0 || m.code || m.canceled) {
        e->c->log(CO_LOG_WARNING, "etcd: watch %s: reading again",
                  m.canceled ? "canceled (history compacted?)" : m.code ? m.error : "sent an unreadable line");
        mx_etcd_watch_free(&m);
        e->synced = false;
        e->watch_bad = true;
        return;
    }
    answered(e);
    for (size_t i = 0; i < m.n_events; i++)
        watch_event(e, &m.events[i]);
    mx_etcd_watch_free(&m);
}

/* ---- entry points --------------------------------------------------------------- */

int mx__etcd_new(mx_coord_t *c)
{
    etcd_t *e = calloc(1, sizeof(*e));
    if (!e)
        return -1;
    c->etcd = e;
    e->c = c;
    e->dhs = calloc(MX_MAX_DH_SLOTS, sizeof(*e->dhs));
    const mx_config_t *cfg = c->cfg;
    mx_http_tls_t tls = {cfg->etcd_cacert, cfg->etcd_cert, cfg->etcd_key};
    e->tls = cfg->etcd_cacert[0] || cfg->etcd_cert[0];
    e->http = mx_http_new(c->loop, &tls, finish, pump_watch, e);
    if (!e->dhs || !e->http) {
        c->log(CO_LOG_ERROR, "etcd: cannot set up the client (out of memory)");
        return -1;
    }
    const char *p = c->cfg->etcd_endpoints;
    while (*p && e->n_ep < MX_ETCD_MAX_ENDPOINTS) {
        while (*p == ' ' || *p == ',')
            p++;
        size_t n = strcspn(p, ", ");
        if (n)
            snprintf(e->ep[e->n_ep++], sizeof(e->ep[0]), "%.*s", (int)n, p);
        p += n;
    }
    snprintf(e->prefix, sizeof(e->prefix), "%s/%s/", c->cfg->etcd_prefix, c->cfg->cluster_name);
    e->prefix_len = strlen(e->prefix);
    uv_timer_init(c->loop, &e->tick);
    e->tick.data = e;
    return 0;
}

void mx__etcd_start(mx_coord_t *c)
{
    etcd_t *e = c->etcd;
    e->last_ok_ms = now_ms(e);
    c->log(CO_LOG_INFO, "etcd: instance %s joins cluster %s at %s", c->instance, c->cfg->cluster_name,
           c->cfg->etcd_endpoints);
    uv_timer_start(&e->tick, on_tick, 0, TICK_MS);
}

void mx__etcd_adopt(mx_coord_t *c)
{
    etcd_t *e = c->etcd;
    /* New dataHosts need a writer key, a view and a decider. */
    for (size_t i = 0; i < c->cfg->n_datahosts; i++)
        e->dhs[c->cfg->datahosts[i].index].view_dirty = true;
    e->synced = false;
}

void mx__etcd_host_changed(mx_coord_t *c, const mx_datahost_t *dh)
{
    etcd_t *e = c->etcd;
    e->dhs[dh->index].view_dirty = true;
    tick(e);
}

void mx__etcd_propose(mx_coord_t *c, const mx_datahost_t *dh, int from, int to, const char *why)
{
    etcd_t *e = c->etcd;
    mx_coord_dh_t *d = mx__coord_dh(c, dh);
    const char *old = dh->write_hosts[from]->name, *nw = dh->write_hosts[to]->name;
    bool by_hand = strcmp(why, "heartbeat") != 0;
    char key[1024], dkey[1024];
    dh_key(e, key, sizeof(key), dh->name, "writer");
    dh_key(e, dkey, sizeof(dkey), dh->name, "decider");
    entry_t *w = cache_find(e, key), *dec = cache_find(e, dkey);
    const char *refuse = NULL;
    char buf[200];
    int live = 0, down = 0;
    if (e->lost || !e->synced || !w)
        refuse = e->lost ? "etcd unreachable: keeping the last agreed writer" : "not in step with etcd yet";
    else if (e->unary)
        refuse = "busy";
    else if (strcmp(mx__coord_dh(c, dh) ? mx__coord_dh(c, dh)->writer : "", old) != 0)
        refuse = "this instance's writer is not the agreed one yet";
    else if (!by_hand && !(d && d->i_decide)) {
        snprintf(buf, sizeof(buf), "%s decides for this dataHost, not this instance", dec ? dec->value : "nobody");
        refuse = buf;
    } else if (!by_hand) {
        count_views(e, dh, dh->write_hosts[from], &live, &down);
        if (!mx__coord_majority(down, live)) {
            snprintf(buf, sizeof(buf), "%s is DOWN for %d of %d instances: no majority", old, down, live);
            refuse = buf;
        }
    }
    if (refuse && strcmp(refuse, "busy") == 0 && !by_hand) {
        e->recheck = true; /* health is asked again when the request in flight is done */
        return;
    }
    if (refuse) {
        c->log(by_hand ? CO_LOG_ERROR : CO_LOG_WARNING, "dataHost %s: writeHost %s%s; not moving writes to %s: %s",
               dh->name, old, by_hand ? " to be replaced by hand" : " is DOWN in this instance's view", nw, refuse);
        mx__coord_note(c, dh, "not switching to %s: %s", nw, refuse);
        if (by_hand)
            mx__coord_count(c, dh, MX_COORD_LOST);
        return;
    }
    mx_etcd_writer_t cur;
    int64_t epoch = mx_etcd_writer_parse(w->value, w->value_len, &cur) == 0 ? cur.epoch + 1 : 1;
    char *val = writer_value(e, dh, to, epoch, why);
    if (!val)
        return;
    mx_etcd_cmp_t cmp[2] = {
        {.key = key, .klen = strlen(key), .target = MX_ETCD_CMP_MOD, .rev = w->mod_rev},
        {.key = dkey, .klen = strlen(dkey), .target = MX_ETCD_CMP_CREATE, .rev = e->dhs[dh->index].term},
    };
    mx_etcd_op_t ok = {.kind = MX_ETCD_OP_PUT, .key = key, .klen = strlen(key), .value = val, .vlen = strlen(val)};
    mx_etcd_op_t fail[2] = {{.kind = MX_ETCD_OP_RANGE, .key = key, .klen = strlen(key)},
                            {.kind = MX_ETCD_OP_RANGE, .key = dkey, .klen = strlen(dkey)}};
    /* A switch by hand is the operator's, from any instance: only the writer's revision must hold. */
    char *body = mx_etcd_req_txn(cmp, by_hand ? 1 : 2, &ok, 1, fail, 2);
    if (by_hand)
        c->log(CO_LOG_WARNING, "dataHost %s: proposing in etcd to move writes from %s to %s (%s)", dh->name, old, nw,
               why);
    else
        c->log(CO_LOG_WARNING, "dataHost %s: proposing in etcd to move writes from %s to %s: %d of %d instances see "
               "%s DOWN", dh->name, old, nw, down, live, old);
    if (unary(e, R_SWITCH, "/v3/kv/txn", body, dh->index)) {
        e->unary->to = to;
        e->unary->why = why;
        e->unary->value = val;
    } else {
        free(val);
    }
}

void mx__etcd_stop(mx_coord_t *c)
{
    etcd_t *e = c->etcd;
    e->stopping = true;
    uv_timer_stop(&e->tick);
    uv_close((uv_handle_t *)&e->tick, NULL);
    drop_watch(e);
    if (e->unary) {
        mx_http_cancel(e->http, e->unary->http);
        e->unary->http = NULL;
        req_free(e->unary);
        e->unary = NULL;
    }
    /* Hand the decider role over at once instead of after the lease: one
     * bounded request, at shutdown only. */
    if (e->lease && !e->lost) {
        char url[400];
        const char *ep = e->ep[e->cur_ep];
        char *body = mx_etcd_req_lease_id(e->lease);
        snprintf(url, sizeof(url), "%s%s/v3/lease/revoke", strstr(ep, "://") ? "" : e->tls ? "https://" : "http://",
                 ep);
        if (body)
            mx_http_post_blocking(e->http, url, body, 500);
        free(body);
    }
    mx_http_close(e->http);
    e->http = NULL;
}

void mx__etcd_free(mx_coord_t *c)
{
    etcd_t *e = c->etcd;
    if (!e)
        return;
    cache_clear(e);
    free(e->cache);
    free(e->dhs);
    free(e);
    c->etcd = NULL;
}
