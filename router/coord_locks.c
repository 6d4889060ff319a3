/* coordination = backend_locks: instances agree on each dataHost's writer
 * through the writeHosts themselves, as MaxScale's cooperative monitoring
 * does.  An instance that holds GET_LOCK('manx:<dataHost>') on a strict
 * majority of the dataHost's writeHosts that are UP in its own view is
 * that dataHost's decider; the writer is recorded in manx_coord.writers on
 * every writeHost, and every instance follows the record with the highest
 * epoch.  Everything runs on the heartbeat thread through the statement
 * queue of the heartbeat connections (mx__health_sql): no connection of
 * our own and no blocking call, and a lock lives exactly as long as the
 * heartbeat connection that took it (or the process). */
#include "coord-t.h"
#include "coord_locks.h"

#include <mysql.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* What this instance knows of the lock on one writeHost's heartbeat
 * connection. */
enum { LK_UNKNOWN = 0, LK_HELD, LK_OTHER };

/* Statements this file queues. */
enum { RQ_LOCK, RQ_READ, RQ_MKDB, RQ_MKTABLE, RQ_WRITE, RQ_RELEASE };

typedef struct lk_host_s {
    int lock;                    /* LK_*: on the current heartbeat connection */
    bool q_lock, q_read, q_write; /* such a statement is queued, its answer not in yet */
    bool read_ok;                /* the last read of the record answered (a record or none) */
    bool missing;                /* the last read found no manx_coord.writers */
    bool have;                   /* idx/epoch/by hold the host's record */
    int idx;
    int64_t epoch;
    char by[128];
} lk_host_t;

typedef struct lk_dh_s {
    lk_host_t w[MX_MAX_HOSTS_PER_LIST]; /* by writeHost index */
    uint64_t retry_at;           /* loop ms before which no lock is asked for (after giving some back) */
    bool synced;                 /* records were read from a majority of the writeHosts once */
    int64_t prop_epoch;          /* the last switch this instance recorded, 0 none */
    int prop_to;                 /* its writeHost index */
    int prop_left;               /* its REPLACEs not answered yet */
    bool prop_done;              /* one succeeded: applied */
} lk_dh_t;

struct mx_locks_s {
    lk_dh_t *dhs[MX_MAX_DH_SLOTS]; /* by dataHost slot, created at its first beat */
    unsigned int seed;           /* rand_r: the back-off after giving locks back */
};

typedef struct lk_req_s {
    mx_coord_t *c;
    int dh_slot, w, kind;
    int idx;                     /* RQ_WRITE: the record written */
    int64_t epoch;
    char by[128];
} lk_req_t;

static void evaluate(mx_coord_t *c, const mx_datahost_t *dh);

/* ---- helpers ------------------------------------------------------------------- */

/* s as the body of a SQL string literal: quotes doubled (right whatever
 * sql_mode says).  Names are checked by conf; a backslash or a control byte
 * still makes this fail (false) rather than build a statement from it. */
static bool sql_str(char *out, size_t cap, const char *s)
{
    size_t n = 0;
    for (; *s; s++) {
        if (*s == '\\' || (unsigned char)*s < ' ' || n + 3 > cap)
            return false;
        if (*s == '\'')
            out[n++] = '\'';
        out[n++] = *s;
    }
    out[n] = 0;
    return true;
}

static lk_dh_t *lk_dh(mx_coord_t *c, int slot)
{
    if (!c->locks || slot < 0 || slot >= MX_MAX_DH_SLOTS)
        return NULL;
    if (!c->locks->dhs[slot])
        c->locks->dhs[slot] = calloc(1, sizeof(lk_dh_t));
    return c->locks->dhs[slot];
}

static const mx_datahost_t *dh_by_slot(mx_coord_t *c, int slot)
{
    for (size_t i = 0; i < c->cfg->n_datahosts; i++)
        if (c->cfg->datahosts[i].index == slot)
            return &c->cfg->datahosts[i];
    return NULL;
}

/* Index of host slot `slot` among dh's writeHosts, -1 if it is not one. */
static int write_index_of(const mx_datahost_t *dh, int slot)
{
    for (size_t w = 0; w < dh->n_write_hosts; w++)
        if (dh->write_hosts[w]->index == slot)
            return (int)w;
    return -1;
}

static bool host_up(mx_coord_t *c, const mx_datahost_t *dh, size_t w)
{
    return mx_health_status(c->pub, dh->write_hosts[w]->index) == MX_HOST_UP;
}

static uint64_t now_ms(mx_coord_t *c)
{
    return uv_now(c->loop);
}

static void on_answer(void *arg, int host_slot, void *res, unsigned int err, const char *msg);

/* Queue `sql` on writeHost w of dh; false (logged) when the queue is full
 * or out of memory: the caller tries again at a later beat. */
static bool queue(mx_coord_t *c, const mx_datahost_t *dh, int w, int kind, const char *sql, const lk_req_t *tpl)
{
    lk_req_t *r = malloc(sizeof(*r));
    if (!r)
        return false;
    if (tpl)
        *r = *tpl;
    else
        memset(r, 0, sizeof(*r));
    r->c = c;
    r->dh_slot = dh->index;
    r->w = w;
    r->kind = kind;
    if (!mx__health_sql(c->h, dh->write_hosts[w]->index, sql, on_answer, r)) {
        c->log(CO_LOG_DEBUG, "dataHost %s: backend_locks: statement queue of %s full; next beat", dh->name,
               dh->write_hosts[w]->name);
        free(r);
        return false;
    }
    return true;
}

/* The highest epoch recorded on any writeHost (0 none); *at its index. */
static int64_t best_record(const lk_dh_t *L, const mx_datahost_t *dh, int *at)
{
    int64_t best = 0;
    *at = -1;
    for (size_t w = 0; w < dh->n_write_hosts; w++)
        if (L->w[w].have && L->w[w].epoch > best) {
            best = L->w[w].epoch;
            *at = (int)w;
        }
    return best;
}

/* ---- statements ------------------------------------------------------------------ */

static void ask_lock(mx_coord_t *c, const mx_datahost_t *dh, lk_dh_t *L, int w, const char *qname)
{
    char sql[400];
    snprintf(sql, sizeof(sql),
             "SELECT IF(IS_USED_LOCK('manx:%s') <=> CONNECTION_ID(), 1, GET_LOCK('manx:%s', 0))", qname, qname);
    L->w[w].q_lock = queue(c, dh, w, RQ_LOCK, sql, NULL);
}

static void ask_record(mx_coord_t *c, const mx_datahost_t *dh, lk_dh_t *L, int w, const char *qname)
{
    char sql[300];
    snprintf(sql, sizeof(sql),
             "SELECT datahost, idx, epoch, by_instance FROM manx_coord.writers WHERE BINARY datahost = '%s' "
             "ORDER BY epoch DESC LIMIT 1", qname);
    L->w[w].q_read = queue(c, dh, w, RQ_READ, sql, NULL);
}

static void release(mx_coord_t *c, const mx_datahost_t *dh, lk_dh_t *L, int w)
{
    char qname[2 * MX_NAME_MAX], sql[200];
    if (!sql_str(qname, sizeof(qname), dh->name))
        return;
    snprintf(sql, sizeof(sql), "DO RELEASE_LOCK('manx:%s')", qname);
    queue(c, dh, w, RQ_RELEASE, sql, NULL);
    L->w[w].lock = LK_UNKNOWN;
}

/* Record (idx, epoch, by) on writeHost w, creating the table first if the
 * last read found none.  Returns whether the REPLACE is queued. */
static bool write_record(mx_coord_t *c, const mx_datahost_t *dh, lk_dh_t *L, int w, int idx, int64_t epoch,
                         const char *by)
{
    char qname[2 * MX_NAME_MAX], qby[260], sql[600];
    if (L->w[w].q_write || !sql_str(qname, sizeof(qname), dh->name) || !sql_str(qby, sizeof(qby), by))
        return false;
    if (L->w[w].missing) {
        queue(c, dh, w, RQ_MKDB, "CREATE DATABASE IF NOT EXISTS manx_coord", NULL);
        queue(c, dh, w, RQ_MKTABLE,
              "CREATE TABLE IF NOT EXISTS manx_coord.writers (datahost VARCHAR(64) NOT NULL, server_id INT UNSIGNED "
              "NOT NULL, idx INT NOT NULL, epoch BIGINT NOT NULL, by_instance VARCHAR(128) NOT NULL, at TIMESTAMP "
              "NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP, PRIMARY KEY (datahost, server_id))",
              NULL);
    }
    /* One row per server that wrote it: the pair replicates this table, and
     * with row-based binlogs the same key written on both masters stops
     * replication (a duplicate-key Write_rows event); a row only its own
     * server writes never collides.  Readers take the highest epoch. */
    snprintf(sql, sizeof(sql),
             "REPLACE INTO manx_coord.writers (datahost, server_id, idx, epoch, by_instance) "
             "VALUES ('%s', @@server_id, %d, %lld, '%s')", qname, idx, (long long)epoch, qby);
    lk_req_t tpl = { .idx = idx, .epoch = epoch };
    snprintf(tpl.by, sizeof(tpl.by), "%s", by);
    L->w[w].q_write = queue(c, dh, w, RQ_WRITE, sql, &tpl);
    return L->w[w].q_write;
}

/* ---- answers ---------------------------------------------------------------------- */

static void got_lock(mx_coord_t *c, const mx_datahost_t *dh, lk_host_t *hw, MYSQL_RES *res, unsigned int err,
                     const char *msg)
{
    MYSQL_ROW row = res ? mysql_fetch_row(res) : NULL;
    int was = hw->lock;
    hw->lock = LK_UNKNOWN;
    if (row && row[0])
        hw->lock = strcmp(row[0], "1") == 0 ? LK_HELD : LK_OTHER;
    else if (err)
        c->log(CO_LOG_WARNING, "dataHost %s: backend_locks: GET_LOCK failed: %u %s", dh->name, err, msg);
    if (was != hw->lock)
        c->log(CO_LOG_DEBUG, "dataHost %s: backend_locks: lock %s", dh->name,
               hw->lock == LK_HELD ? "held" : hw->lock == LK_OTHER ? "held by another session" : "unknown");
}

static void got_record(mx_coord_t *c, const mx_datahost_t *dh, lk_host_t *hw, MYSQL_RES *res, unsigned int err,
                       const char *msg)
{
    hw->have = false;
    hw->missing = err == 1146 || err == 1049;
    hw->read_ok = !err || hw->missing;
    if (err && !hw->missing) {
        c->log(CO_LOG_WARNING, "dataHost %s: backend_locks: reading manx_coord.writers failed: %u %s", dh->name, err,
               msg);
        return;
    }
    MYSQL_ROW row = res && mysql_num_fields(res) == 4 ? mysql_fetch_row(res) : NULL;
    if (!row)
        return;
    /* The column compares case-insensitively: only our own name counts. */
    if (!row[0] || strcmp(row[0], dh->name) != 0 || !row[1] || !row[2]) {
        c->log(CO_LOG_WARNING, "dataHost %s: backend_locks: manx_coord.writers holds a row for '%s': ignored",
               dh->name, row[0] ? row[0] : "NULL");
        return;
    }
    char *end;
    long idx = strtol(row[1], &end, 10);
    long long epoch = strtoll(row[2], &end, 10);
    if (idx < 0 || (size_t)idx >= dh->n_write_hosts || epoch <= 0) {
        c->log(CO_LOG_ERROR, "dataHost %s: backend_locks: record idx %s epoch %s is not one of this "
               "configuration (%zu writeHosts): ignored", dh->name, row[1], row[2], dh->n_write_hosts);
        return;
    }
    hw->have = true;
    hw->idx = (int)idx;
    hw->epoch = epoch;
    snprintf(hw->by, sizeof(hw->by), "%s", row[3] ? row[3] : "");
}

static void follow(mx_coord_t *c, const mx_datahost_t *dh, int idx, int64_t epoch, const char *by);

static void got_write(mx_coord_t *c, const mx_datahost_t *dh, lk_dh_t *L, const lk_req_t *r, unsigned int err,
                      const char *msg)
{
    lk_host_t *hw = &L->w[r->w];
    bool mine = r->epoch == L->prop_epoch;
    if (mine && L->prop_left > 0)
        L->prop_left--;
    if (err) {
        c->log(CO_LOG_ERROR, "dataHost %s: backend_locks: recording epoch %lld on %s failed: %u %s", dh->name,
               (long long)r->epoch, dh->write_hosts[r->w]->name, err, msg);
        if (mine && !L->prop_done && L->prop_left == 0) {
            mx__coord_count(c, dh, MX_COORD_LOST);
            mx__coord_note(c, dh, "could not record the switch to %s on any writeHost",
                           dh->write_hosts[L->prop_to]->name);
        }
        return;
    }
    hw->have = true;
    hw->missing = false;
    hw->idx = r->idx;
    hw->epoch = r->epoch;
    snprintf(hw->by, sizeof(hw->by), "%s", r->by);
    if (mine && !L->prop_done) {
        L->prop_done = true;
        mx__coord_count(c, dh, MX_COORD_WON);
        follow(c, dh, r->idx, r->epoch, r->by);
    }
}

static void on_answer(void *arg, int host_slot, void *res, unsigned int err, const char *msg)
{
    lk_req_t *r = arg;
    mx_coord_t *c = r->c;
    /* A duplicate of a statement still queued: the first one answers. */
    bool dup = !res && !err && msg && strcmp(msg, "already queued") == 0;
    const mx_datahost_t *dh = dh_by_slot(c, r->dh_slot);
    lk_dh_t *L = dh ? lk_dh(c, r->dh_slot) : NULL;
    /* A reload may have changed the dataHost since: then forget the answer. */
    if (dup || !L || write_index_of(dh, host_slot) != r->w) {
        free(r);
        return;
    }
    lk_host_t *hw = &L->w[r->w];
    switch (r->kind) {
    case RQ_LOCK:
        hw->q_lock = false;
        got_lock(c, dh, hw, res, err, msg);
        break;
    case RQ_READ:
        hw->q_read = false;
        got_record(c, dh, hw, res, err, msg);
        break;
    case RQ_MKTABLE:
    case RQ_MKDB:
        if (err)
            c->log(CO_LOG_ERROR, "dataHost %s: backend_locks: creating manx_coord.writers on %s failed: %u %s "
                   "(the heartbeat's account needs CREATE on manx_coord)", dh->name, dh->write_hosts[r->w]->name,
                   err, msg);
        else if (r->kind == RQ_MKTABLE)
            hw->missing = false;
        break;
    case RQ_WRITE:
        hw->q_write = false;
        got_write(c, dh, L, r, err, msg);
        break;
    default:
        break;
    }
    free(r);
    if (err != 2013)
        evaluate(c, dh);
}

/* ---- deciding ----------------------------------------------------------------------- */

/* The agreed writer is writeHost idx at `epoch`: show it, and move this
 * instance's writes there if they go elsewhere.  An older epoch than the
 * one already followed changes nothing (a writeHost that was away). */
static void follow(mx_coord_t *c, const mx_datahost_t *dh, int idx, int64_t epoch, const char *by)
{
    mx_coord_dh_t *d = mx__coord_dh(c, dh);
    if (!d || idx < 0 || (size_t)idx >= dh->n_write_hosts || epoch < d->writer_rev)
        return;
    int cur = mx_health_writer(c->pub, (size_t)dh->index);
    uv_mutex_lock(&c->lock);
    snprintf(d->writer, sizeof(d->writer), "%s", dh->write_hosts[idx]->name);
    d->writer_index = idx;
    d->writer_rev = epoch;
    if (cur != idx) {
        d->applied++;
        d->note[0] = 0;
    }
    uv_mutex_unlock(&c->lock);
    if (cur != idx)
        mx__health_apply(c->h, dh, idx, "backend_locks", by, epoch);
}

static void set_decider(mx_coord_t *c, const mx_datahost_t *dh, mx_coord_dh_t *d, bool decide, int held, int up)
{
    if (d->i_decide == decide)
        return;
    if (decide)
        c->log(CO_LOG_WARNING, "dataHost %s: backend_locks: this instance decides now (it holds the lock on %d of "
               "the %d writeHosts up)", dh->name, held, up);
    else
        c->log(CO_LOG_WARNING, "dataHost %s: backend_locks: this instance no longer decides (it holds the lock on "
               "%d of the %d writeHosts up)", dh->name, held, up);
    uv_mutex_lock(&c->lock);
    d->i_decide = decide;
    snprintf(d->decider, sizeof(d->decider), "%s", decide ? c->instance : "");
    if (decide)
        d->note[0] = 0;
    uv_mutex_unlock(&c->lock);
    /* A writer that went down while nobody could decide still needs a
     * new one: the heartbeat's choice runs again, now with a decider. */
    if (decide) {
        mx__coord_took_role(c, dh);
        mx__health_recheck(c->h);
    }
}

/* Some locks but not a majority, and every answer in: give them back and
 * wait 1-3 beats (random), so two instances that each took one lock do
 * not block each other for ever. */
static void give_back(mx_coord_t *c, const mx_datahost_t *dh, lk_dh_t *L, int held, int up)
{
    int beats = 1 + (int)(rand_r(&c->locks->seed) % 3);
    L->retry_at = now_ms(c) + (uint64_t)beats * (uint64_t)dh->heartbeat_period_ms;
    c->log(CO_LOG_INFO, "dataHost %s: backend_locks: holds the lock on %d of the %d writeHosts up, not a majority: "
           "giving it back, trying again in %d heartbeat periods", dh->name, held, up, beats);
    for (size_t w = 0; w < dh->n_write_hosts; w++)
        if (L->w[w].lock == LK_HELD)
            release(c, dh, L, (int)w);
}

/* SYNCED once every dataHost's records were read from a majority of its
 * writeHosts. */
static void update_state(mx_coord_t *c)
{
    bool all = true;
    for (size_t i = 0; i < c->cfg->n_datahosts; i++) {
        int slot = c->cfg->datahosts[i].index;
        const lk_dh_t *L = c->locks && slot >= 0 && slot < MX_MAX_DH_SLOTS ? c->locks->dhs[slot] : NULL;
        if (!L || !L->synced)
            all = false;
    }
    uv_mutex_lock(&c->lock);
    c->state = all ? "SYNCED" : "SYNCING";
    c->connected = true;
    uv_mutex_unlock(&c->lock);
}

/* The decider keeps the record on every writeHost it reaches: the first
 * one (epoch 1: the writer in use) when no host has any, and the newest on
 * a host whose record is older (a writeHost that was away). */
static void upkeep(mx_coord_t *c, const mx_datahost_t *dh, lk_dh_t *L, int64_t best, int at)
{
    if (L->prop_epoch && !L->prop_done && L->prop_left > 0)
        return;
    if (at < 0) {
        if (!L->synced)
            return;
        for (size_t w = 0; w < dh->n_write_hosts; w++)
            if (host_up(c, dh, w) && !L->w[w].read_ok)
                return;
        int cur = mx_health_writer(c->pub, (size_t)dh->index);
        int n = 0;
        for (size_t w = 0; w < dh->n_write_hosts; w++)
            if (host_up(c, dh, w))
                n += write_record(c, dh, L, (int)w, cur, 1, c->instance);
        if (n)
            c->log(CO_LOG_INFO, "dataHost %s: backend_locks: no record yet: recording %s (index %d) as the writer, "
                   "epoch 1", dh->name, dh->write_hosts[cur]->name, cur);
        return;
    }
    const lk_host_t *b = &L->w[at];
    for (size_t w = 0; w < dh->n_write_hosts; w++) {
        const lk_host_t *hw = &L->w[w];
        if (!host_up(c, dh, w) || !hw->read_ok || (hw->have && hw->epoch >= best))
            continue;
        if (write_record(c, dh, L, (int)w, b->idx, best, b->by))
            c->log(CO_LOG_INFO, "dataHost %s: backend_locks: %s has %s record: writing epoch %lld (%s) there",
                   dh->name, dh->write_hosts[w]->name, hw->have ? "an older" : "no", (long long)best,
                   dh->write_hosts[b->idx]->name);
    }
}

/* Who decides, what the agreed writer is, and what the decider must write,
 * from what this instance knows now.  Called after every answer and when
 * a host changes between UP and DOWN. */
static void evaluate(mx_coord_t *c, const mx_datahost_t *dh)
{
    lk_dh_t *L = lk_dh(c, dh->index);
    mx_coord_dh_t *d = mx__coord_dh(c, dh);
    if (!L || !d)
        return;
    int up = 0, held_up = 0, held = 0, pending = 0, unknown = 0, read = 0;
    for (size_t w = 0; w < dh->n_write_hosts; w++) {
        const lk_host_t *hw = &L->w[w];
        int st = mx_health_status(c->pub, dh->write_hosts[w]->index);
        unknown += st == MX_HOST_UNKNOWN;
        held += hw->lock == LK_HELD;
        read += hw->read_ok && st != MX_HOST_DOWN;
        if (st != MX_HOST_UP)
            continue;
        up++;
        held_up += hw->lock == LK_HELD;
        pending += hw->lock == LK_UNKNOWN;
    }
    /* Hosts not checked yet could change the majority: no decision before. */
    bool decide = unknown == 0 && mx__coord_majority(held_up, up);
    set_decider(c, dh, d, decide, held_up, up);
    if (!decide && held > 0 && pending == 0 && unknown == 0)
        give_back(c, dh, L, held_up, up);
    if (!L->synced && 2 * read > (int)dh->n_write_hosts) {
        L->synced = true;
        c->log(CO_LOG_INFO, "dataHost %s: backend_locks: records read from %d of the %zu writeHosts", dh->name, read,
               dh->n_write_hosts);
        update_state(c);
    }
    int at;
    int64_t best = best_record(L, dh, &at);
    if (at >= 0)
        follow(c, dh, L->w[at].idx, best, L->w[at].by);
    if (decide)
        upkeep(c, dh, L, best, at);
}

/* ---- entry points (router/coord.c) ---------------------------------------------------- */

int mx__locks_new(mx_coord_t *c)
{
    c->locks = calloc(1, sizeof(*c->locks));
    if (!c->locks) {
        c->log(CO_LOG_ERROR, "coordination = backend_locks: out of memory");
        return -1;
    }
    /* Two instances started together must not back off in step. */
    c->locks->seed = (unsigned int)getpid() ^ (unsigned int)uv_hrtime();
    c->state = "SYNCING";
    c->connected = true;
    return 0;
}

/* Whether to ask for the lock on writeHost w now.  An instance that holds
 * no lock does not take a free one while another instance holds the lock
 * on an UP writeHost: a writeHost that comes back then goes to the decider,
 * instead of being split between instances that would both give theirs
 * back.  Where another holds it, asking again is the probe that takes it
 * when that instance is gone. */
static bool may_try(mx_coord_t *c, const mx_datahost_t *dh, const lk_dh_t *L, int w)
{
    if (L->w[w].lock != LK_UNKNOWN)
        return true;
    bool other = false;
    for (size_t v = 0; v < dh->n_write_hosts; v++) {
        if (L->w[v].lock == LK_HELD)
            return true;
        if ((int)v != w && L->w[v].lock == LK_OTHER && host_up(c, dh, v))
            other = true;
    }
    return !other;
}

void mx__locks_beat(mx_coord_t *c, const mx_datahost_t *dh, int slot, bool fresh)
{
    int w = write_index_of(dh, slot);
    lk_dh_t *L = w >= 0 ? lk_dh(c, dh->index) : NULL;
    char qname[2 * MX_NAME_MAX];
    if (!L)
        return;
    if (!sql_str(qname, sizeof(qname), dh->name)) {
        c->log(CO_LOG_ERROR, "dataHost %s: backend_locks: the name cannot be a lock name", dh->name);
        return;
    }
    lk_host_t *hw = &L->w[w];
    /* A new connection holds no lock, whatever the last one held. */
    if (fresh)
        hw->lock = LK_UNKNOWN;
    if (!hw->q_lock && now_ms(c) >= L->retry_at && may_try(c, dh, L, w))
        ask_lock(c, dh, L, w, qname);
    if (!hw->q_read)
        ask_record(c, dh, L, w, qname);
}

void mx__locks_host_changed(mx_coord_t *c, const mx_datahost_t *dh)
{
    lk_dh_t *L = lk_dh(c, dh->index);
    if (!L)
        return;
    /* A host goes DOWN after failed beats, which closed its connection:
     * the lock there is gone. */
    for (size_t w = 0; w < dh->n_write_hosts; w++)
        if (mx_health_status(c->pub, dh->write_hosts[w]->index) == MX_HOST_DOWN)
            L->w[w].lock = LK_UNKNOWN;
    evaluate(c, dh);
}

static void refuse(mx_coord_t *c, const mx_datahost_t *dh, mx_coord_dh_t *d, int from, int to, const char *why)
{
    if (strcmp(why, "heartbeat") == 0) {
        c->log(CO_LOG_WARNING, "dataHost %s: writeHost %s is DOWN in this instance's view; not switching: instance "
               "does not hold the lock on a majority", dh->name, dh->write_hosts[from]->name);
        mx__coord_note(c, dh, "writeHost %s is DOWN here; not switching: no lock on a majority of the writeHosts up",
                       dh->write_hosts[from]->name);
    } else {
        c->log(CO_LOG_WARNING, "dataHost %s: %s request to move writes to %s refused: this instance does not hold "
               "the lock on a majority of the writeHosts up (another instance decides)", dh->name, why,
               dh->write_hosts[to]->name);
        mx__coord_note(c, dh, "%s request for %s refused: no lock on a majority of the writeHosts up", why,
                       dh->write_hosts[to]->name);
    }
    mx__coord_count(c, dh, MX_COORD_LOST);
}

void mx__locks_propose(mx_coord_t *c, const mx_datahost_t *dh, int from, int to, const char *why)
{
    lk_dh_t *L = lk_dh(c, dh->index);
    mx_coord_dh_t *d = mx__coord_dh(c, dh);
    if (!L || !d || to < 0 || (size_t)to >= dh->n_write_hosts || from < 0 || (size_t)from >= dh->n_write_hosts)
        return;
    if (!d->i_decide) {
        refuse(c, dh, d, from, to, why);
        return;
    }
    if (L->prop_epoch && !L->prop_done && L->prop_left > 0) {
        c->log(CO_LOG_INFO, "dataHost %s: backend_locks: the move to %s is being recorded; %s waits", dh->name,
               dh->write_hosts[L->prop_to]->name, why);
        return;
    }
    int at;
    int64_t best = best_record(L, dh, &at);
    if (d->writer_rev > best)
        best = d->writer_rev;
    int64_t epoch = best + 1;
    int n = 0;
    for (size_t w = 0; w < dh->n_write_hosts; w++)
        if (host_up(c, dh, w))
            n += write_record(c, dh, L, (int)w, to, epoch, c->instance);
    if (n == 0) {
        c->log(CO_LOG_ERROR, "dataHost %s: backend_locks: cannot record the move of writes to %s on any writeHost",
               dh->name, dh->write_hosts[to]->name);
        mx__coord_note(c, dh, "cannot record the move to %s", dh->write_hosts[to]->name);
        mx__coord_count(c, dh, MX_COORD_LOST);
        return;
    }
    L->prop_epoch = epoch;
    L->prop_to = to;
    L->prop_left = n;
    L->prop_done = false;
    c->log(CO_LOG_WARNING, "dataHost %s: backend_locks: this instance decides: recording the move of writes from %s "
           "to %s (%s) as epoch %lld on %d writeHosts", dh->name, dh->write_hosts[from]->name,
           dh->write_hosts[to]->name, why, (long long)epoch, n);
    for (size_t w = 0; w < dh->n_write_hosts; w++)
        if (host_up(c, dh, w))
            mx__health_beat_now(c->h, dh->write_hosts[w]->index);
}

void mx__locks_adopt(mx_coord_t *c)
{
    if (!c->locks)
        return;
    for (int slot = 0; slot < MX_MAX_DH_SLOTS; slot++) {
        if (c->locks->dhs[slot] && !dh_by_slot(c, slot)) {
            free(c->locks->dhs[slot]);
            c->locks->dhs[slot] = NULL;
        }
    }
    update_state(c);
}

void mx__locks_stop(mx_coord_t *c)
{
    /* Nothing of our own to close: the locks go with the heartbeat's
     * connections, which the heartbeat closes. */
    (void)c;
}

void mx__locks_free(mx_coord_t *c)
{
    if (!c->locks)
        return;
    for (int slot = 0; slot < MX_MAX_DH_SLOTS; slot++)
        free(c->locks->dhs[slot]);
    free(c->locks);
    c->locks = NULL;
}
