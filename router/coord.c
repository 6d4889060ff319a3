/* Coordination, the part every mode shares: per-dataHost records for the
 * console, the dispatch to the mode (none decides alone; coord_etcd.c,
 * coord_locks.c agree with other instances) and fencing (fence =
 * read_only), which only the instance that decides does, on the heartbeat
 * connections: at a switch, and whenever a writeHost of a fenced dataHost
 * (re)connects, so an old writer that comes back is fenced before anyone
 * can be sent there by mistake. */
#include "coord-t.h"
#include "coord_etcd.h"
#include "coord_locks.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

mx_coord_t *mx_coord_new(struct mx_heartbeat_s *h, mx_health_t *pub, void *loop, const mx_config_t *cfg,
                         mx_health_log_fn log)
{
    mx_coord_t *c = calloc(1, sizeof(*c));
    if (!c) {
        log(CO_LOG_ERROR, "coordination: out of memory");
        return NULL;
    }
    c->h = h;
    c->pub = pub;
    c->loop = loop;
    c->cfg = cfg;
    c->log = log;
    c->mode = cfg->coordination;
    snprintf(c->instance, sizeof(c->instance), "%s", cfg->instance_name);
    c->state = c->mode == MX_COORD_NONE ? "ALONE" : "SYNCING";
    c->connected = c->mode != MX_COORD_ETCD;
    uv_mutex_init(&c->lock);
    int rc = 0;
    if (c->mode == MX_COORD_ETCD)
        rc = mx__etcd_new(c);
    else if (c->mode == MX_COORD_BACKEND_LOCKS)
        rc = mx__locks_new(c);
    if (rc < 0) {
        mx_coord_free(c);
        return NULL;
    }
    return c;
}

void mx_coord_start(mx_coord_t *c)
{
    if (c->mode == MX_COORD_ETCD)
        mx__etcd_start(c);
}

void mx_coord_free(mx_coord_t *c)
{
    if (!c)
        return;
    if (c->mode == MX_COORD_ETCD)
        mx__etcd_free(c);
    else if (c->mode == MX_COORD_BACKEND_LOCKS)
        mx__locks_free(c);
    for (size_t i = 0; i < MX_MAX_DH_SLOTS; i++)
        free(c->dhs[i]);
    uv_mutex_destroy(&c->lock);
    free(c);
}

void mx_coord_stop(mx_coord_t *c)
{
    if (c->mode == MX_COORD_ETCD)
        mx__etcd_stop(c);
    else if (c->mode == MX_COORD_BACKEND_LOCKS)
        mx__locks_stop(c);
}

mx_coord_dh_t *mx__coord_dh(mx_coord_t *c, const mx_datahost_t *dh)
{
    if (dh->index < 0 || dh->index >= MX_MAX_DH_SLOTS)
        return NULL;
    mx_coord_dh_t *d = c->dhs[dh->index];
    if (d)
        return d;
    d = calloc(1, sizeof(*d));
    if (!d)
        return NULL;
    snprintf(d->name, sizeof(d->name), "%s", dh->name);
    d->slot = dh->index;
    d->writer_index = -1;
    uv_mutex_lock(&c->lock);
    c->dhs[dh->index] = d;
    uv_mutex_unlock(&c->lock);
    return d;
}

const mx_datahost_t *mx__coord_find_dh(mx_coord_t *c, const char *name)
{
    for (size_t i = 0; i < c->cfg->n_datahosts; i++)
        if (strcmp(c->cfg->datahosts[i].name, name) == 0)
            return &c->cfg->datahosts[i];
    return NULL;
}

void mx__coord_count(mx_coord_t *c, const mx_datahost_t *dh, int what)
{
    mx_coord_dh_t *d = mx__coord_dh(c, dh);
    if (!d)
        return;
    uv_mutex_lock(&c->lock);
    if (what == MX_COORD_APPLIED)
        d->applied++;
    else if (what == MX_COORD_WON)
        d->won++;
    else
        d->lost++;
    uv_mutex_unlock(&c->lock);
}

void mx__coord_note(mx_coord_t *c, const mx_datahost_t *dh, const char *fmt, ...)
{
    mx_coord_dh_t *d = mx__coord_dh(c, dh);
    if (!d)
        return;
    char buf[sizeof(d->note)];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    uv_mutex_lock(&c->lock);
    memcpy(d->note, buf, sizeof(buf));
    uv_mutex_unlock(&c->lock);
}

void mx_coord_adopt(mx_coord_t *c, const mx_config_t *cfg)
{
    c->cfg = cfg;
    if (c->mode == MX_COORD_ETCD)
        mx__etcd_adopt(c);
    else if (c->mode == MX_COORD_BACKEND_LOCKS)
        mx__locks_adopt(c);
}

void mx_coord_host_changed(mx_coord_t *c, const mx_datahost_t *dh)
{
    if (!dh)
        return;
    if (c->mode == MX_COORD_ETCD)
        mx__etcd_host_changed(c, dh);
    else if (c->mode == MX_COORD_BACKEND_LOCKS)
        mx__locks_host_changed(c, dh);
}

void mx_coord_propose(mx_coord_t *c, const mx_datahost_t *dh, int from, int to, const char *why)
{
    if (c->mode == MX_COORD_ETCD) {
        mx__etcd_propose(c, dh, from, to, why);
    } else if (c->mode == MX_COORD_BACKEND_LOCKS) {
        mx__locks_propose(c, dh, from, to, why);
    } else {
        mx__coord_count(c, dh, MX_COORD_APPLIED);
        mx__health_apply(c->h, dh, to, why, "", 0);
    }
}

bool mx_coord_decides(mx_coord_t *c, const mx_datahost_t *dh)
{
    if (c->mode == MX_COORD_NONE)
        return true;
    mx_coord_dh_t *d = mx__coord_dh(c, dh);
    return d && d->i_decide;
}

/* ---- fencing ------------------------------------------------------------------ */

typedef struct {
    mx_coord_t *c;
    int dh_slot;
    bool on;
} fence_req_t;

static void on_fenced(void *arg, int slot, void *res, unsigned int err, const char *msg)
{
    (void)res;
    fence_req_t *r = arg;
    mx_coord_t *c = r->c;
    if (!res && !err && strcmp(msg, "already queued") == 0) {
        /* The same statement waits for the host already: it reports. */
        free(r);
        return;
    }
    mx_coord_dh_t *d = r->dh_slot >= 0 && r->dh_slot < MX_MAX_DH_SLOTS ? c->dhs[r->dh_slot] : NULL;
    const mx_host_t *host = mx_conf_host_by_slot(c->cfg, slot);
    const char *name = host ? host->name : "?";
    if (err)
        c->log(CO_LOG_ERROR, "dataHost %s: fence: SET GLOBAL read_only = %s on %s failed: %u %s",
               d ? d->name : "?", r->on ? "ON" : "OFF", name, err, msg);
    else
        c->log(CO_LOG_WARNING, "dataHost %s: fence: %s is read_only = %s", d ? d->name : "?", name,
               r->on ? "ON" : "OFF");
    if (d) {
        uv_mutex_lock(&c->lock);
        if (err) {
            d->fence_err++;
            snprintf(d->fence_state, sizeof(d->fence_state), "%s read_only=%s failed: %u %.100s", name,
                     r->on ? "ON" : "OFF", err, msg);
        } else {
            d->fence_ok++;
            snprintf(d->fence_state, sizeof(d->fence_state), "%s read_only=%s", name, r->on ? "ON" : "OFF");
        }
        uv_mutex_unlock(&c->lock);
    }
    free(r);
}

/* Queue the read_only writeHost w of dh should have. */
static void fence_host(mx_coord_t *c, const mx_datahost_t *dh, int w, int active)
{
    fence_req_t *r = malloc(sizeof(*r));
    /* The record that shows the outcome (none: created here). */
    if (!r || !mx__coord_dh(c, dh)) {
        free(r);
        return;
    }
    r->c = c;
    r->dh_slot = dh->index;
    r->on = w != active;
    int slot = dh->write_hosts[w]->index;
    if (!mx__health_sql(c->h, slot, r->on ? "SET GLOBAL read_only = ON" : "SET GLOBAL read_only = OFF",
                        on_fenced, r)) {
        c->log(CO_LOG_ERROR, "dataHost %s: fence: cannot queue read_only = %s for %s", dh->name,
               r->on ? "ON" : "OFF", dh->write_hosts[w]->name);
        free(r);
        return;
    }
    mx__health_beat_now(c->h, slot);
}

void mx_coord_applied(mx_coord_t *c, const mx_datahost_t *dh, int from, int to)
{
    (void)from;
    if (dh->fence != MX_FENCE_READ_ONLY || !mx_coord_decides(c, dh))
        return;
    c->log(CO_LOG_WARNING, "dataHost %s: fence: writes moved to %s; setting read_only = ON on the other writeHosts",
           dh->name, dh->write_hosts[to]->name);
    for (size_t w = 0; w < dh->n_write_hosts; w++)
        fence_host(c, dh, (int)w, to);
}

void mx__coord_took_role(mx_coord_t *c, const mx_datahost_t *dh)
{
    /* The writeHosts connected before this instance decided were not
     * fenced at their connection: now. */
    if (dh->fence != MX_FENCE_READ_ONLY)
        return;
    int active = mx_health_writer(c->pub, (size_t)dh->index);
    for (size_t w = 0; w < dh->n_write_hosts; w++)
        fence_host(c, dh, (int)w, active);
}

void mx_coord_beat(mx_coord_t *c, const mx_datahost_t *dh, int slot, bool fresh)
{
    if (!dh)
        return;
    if (c->mode == MX_COORD_BACKEND_LOCKS)
        mx__locks_beat(c, dh, slot, fresh);
    if (!fresh || dh->fence != MX_FENCE_READ_ONLY || !mx_coord_decides(c, dh))
        return;
    int active = mx_health_writer(c->pub, (size_t)dh->index);
    for (size_t w = 0; w < dh->n_write_hosts; w++)
        if (dh->write_hosts[w]->index == slot)
            fence_host(c, dh, (int)w, active);
}

/* ---- what the console shows ---------------------------------------------------- */

void mx_coord_snapshot(mx_coord_t *c, const mx_datahost_t *dh, mx_coord_snapshot_t *out)
{
    memset(out, 0, sizeof(*out));
    out->writer_index = -1;
    out->fence = dh->fence;
    if (!c)
        return;
    out->mode = c->mode;
    snprintf(out->instance, sizeof(out->instance), "%s", c->instance);
    uv_mutex_lock(&c->lock);
    out->state = c->state;
    out->connected = c->connected;
    if (c->lost_since_ms && strcmp(c->state, "LOST") == 0)
        out->lost_s = (double)(uv_hrtime() / 1000000 - c->lost_since_ms) / 1000.0;
    const mx_coord_dh_t *d = dh->index >= 0 && dh->index < MX_MAX_DH_SLOTS ? c->dhs[dh->index] : NULL;
    if (d) {
        memcpy(out->decider, d->decider, sizeof(out->decider));
        out->i_decide = d->i_decide;
        memcpy(out->writer, d->writer, sizeof(out->writer));
        out->writer_index = d->writer_index;
        out->writer_rev = d->writer_rev;
        out->applied = d->applied;
        out->won = d->won;
        out->lost = d->lost;
        memcpy(out->fence_state, d->fence_state, sizeof(out->fence_state));
        out->fence_ok = d->fence_ok;
        out->fence_err = d->fence_err;
        memcpy(out->note, d->note, sizeof(out->note));
    }
    uv_mutex_unlock(&c->lock);
    if (c->mode == MX_COORD_NONE) {
        out->i_decide = true;
        snprintf(out->decider, sizeof(out->decider), "%s", c->instance);
    }
}
