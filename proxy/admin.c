/* The admin console: a MySQL-protocol endpoint on admin_listen (Mycat's
 * :9066) where operators run Mycat 1.6's `show @@...`, `kill @@connection`,
 * `offline`/`online` and `reload @@config` with any MySQL client.  One table
 * of commands; each builds a result set with Mycat's columns first (scripts
 * written for Mycat parse them by position) and manx's own after them.
 * Numbers come from what workers and the heartbeat publish (atomics, the
 * workers' stats under their own locks, the heartbeat's snapshot), never
 * from another thread's private state; a reload runs on the main thread,
 * which answers back. */
#include "admin.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "log.h"
#include "protocol/collation.h"
#include "registry.h"
#include "router/coord.h"
#include "stats.h"
#include "worker.h"
#include "mx_version.h"

typedef struct table_s {
    const char *const *cols;
    size_t ncols;
    char **vals;                 /* row-major, heap strings (NULL = SQL NULL) */
    size_t nrows, cap;
} table_t;

static void table_init(table_t *t, const char *const *cols, size_t ncols)
{
    memset(t, 0, sizeof(*t));
    t->cols = cols;
    t->ncols = ncols;
}

/* Append a row: `fmt` holds one printf conversion per column separated by
 * '\t'.  Returns false when out of memory. */
static bool table_row(table_t *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool table_row(table_t *t, const char *fmt, ...)
{
    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (t->nrows == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16;
        char **nv = realloc(t->vals, cap * t->ncols * sizeof(char *));
        if (!nv)
            return false;
        t->vals = nv;
        t->cap = cap;
    }
    char *s = line;
    for (size_t i = 0; i < t->ncols; i++) {
        char *tab = i + 1 < t->ncols ? strchr(s, '\t') : NULL;
        if (tab)
            *tab = 0;
        t->vals[t->nrows * t->ncols + i] = strdup(s);
        s = tab ? tab + 1 : s + strlen(s);
    }
    t->nrows++;
    return true;
}

static bool table_send(mx_client_t *cl, table_t *t)
{
    bool ok = mx_client_send_resultset(cl, t->cols, t->ncols, (const char *const *)t->vals, t->nrows);
    for (size_t i = 0; i < t->nrows * t->ncols; i++)
        free(t->vals[i]);
    free(t->vals);
    return ok;
}

/* ---- helpers -------------------------------------------------------------- */

#define NCOLS(c) (sizeof(c) / sizeof((c)[0]))

static bool show_help(mx_client_t *cl, const char *arg);

/* Sum of one published counter of host `hi` over all workers. */
#define SUM_POOLS(hi, field, type)                                                      \
    ({                                                                                  \
        type _s = 0;                                                                    \
        for (int _w = 0; _w < mx_proc.n_workers; _w++)                                  \
            for (int _a = 0; _a < MX_MAX_ACCOUNTS; _a++) {                              \
                mx_pool_t *_p = mx_worker_pool(&mx_proc.workers[_w], hi, _a);           \
                if (_p)                                                                 \
                    _s += atomic_load_explicit(&_p->field, memory_order_relaxed);       \
            }                                                                           \
        _s;                                                                             \
    })

/* Where host h serves: its dataHost, and "W (active)", "W (standby)" or "R". */
static const char *host_role(const mx_config_t *cfg, const mx_host_t *h, const mx_datahost_t **dhp)
{
    for (size_t d = 0; d < cfg->n_datahosts; d++) {
        const mx_datahost_t *dh = &cfg->datahosts[d];
        int active = mx_health_writer(&mx_proc.health, (size_t)dh->index);
        for (size_t w = 0; w < dh->n_write_hosts; w++) {
            if (dh->write_hosts[w] == h) {
                *dhp = dh;
                return (int)w == active ? "W (active)" : "W (standby)";
            }
            for (size_t r = 0; r < dh->write_hosts[w]->n_read_hosts; r++)
                if (dh->write_hosts[w]->read_hosts[r] == h) {
                    *dhp = dh;
                    return "R";
                }
        }
    }
    *dhp = NULL;
    return "-";
}

static const char *charset_name(uint8_t collation)
{
    const char *cs, *coll;
    return collation && mx_collation_names(collation, &cs, &coll) ? cs : "";
}

/* "1d 2h 3m 4s", as Mycat prints an uptime. */
static void format_age(uint64_t ms, char *out, size_t cap)
{
    uint64_t s = ms / 1000;
    snprintf(out, cap, "%" PRIu64 "d %" PRIu64 "h %" PRIu64 "m %" PRIu64 "s", s / 86400, s / 3600 % 24,
             s / 60 % 60, s % 60);
}

static uint64_t now_ms(void)
{
    return uv_hrtime() / 1000000;
}

/* ---- commands ----------------------------------------------------------------- */

static bool show_version(mx_client_t *cl, const char *arg)
{
    static const char *const cols[] = { "VERSION" };
    table_t t;
    table_init(&t, cols, 1);
    table_row(&t, "manx %s", MX_VERSION);
    return table_send(cl, &t);
}

/* Mycat's show @@datasource: one row per dataNode and host of its dataHost
 * (hosts no dataNode uses once, with DATANODE empty).  SIZE is the host's
 * max_con; EXECUTE counts statements sent to the host, READ_LOAD and
 * WRITE_LOAD the ones balance sent there as reads and as writes. */
static void datasource_row(table_t *t, const mx_config_t *cfg, const char *dn, const mx_host_t *h)
{
    const mx_datahost_t *dh;
    const char *role = host_role(cfg, h, &dh);
    uint64_t reads = SUM_POOLS(h->index, pub_reads, uint64_t), writes = SUM_POOLS(h->index, pub_writes, uint64_t);
    table_row(t, "%s\t%s\tmysql\t%s\t%u\t%s\t%d\t%d\t%d\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\t%s\t%d\t%" PRIu64
              "\t%s\t%s", dn, h->name, h->ip, h->port, role[0] == 'R' ? "R" : "W", SUM_POOLS(h->index, pub_busy, int),
              SUM_POOLS(h->index, pub_idle, int), dh ? dh->max_con : 0, reads + writes, reads, writes,
              mx_host_status_name(mx_health_status(&mx_proc.health, h->index)), SUM_POOLS(h->index, pub_waiting, int),
              SUM_POOLS(h->index, pub_errors, uint64_t), dh ? dh->name : "", role);
}

static bool host_in(const mx_datahost_t *dh, const mx_host_t *h)
{
    for (size_t w = 0; w < dh->n_write_hosts; w++) {
        if (dh->write_hosts[w] == h)
            return true;
        for (size_t r = 0; r < dh->write_hosts[w]->n_read_hosts; r++)
            if (dh->write_hosts[w]->read_hosts[r] == h)
                return true;
    }
    return false;
}

static bool show_datasource(mx_client_t *cl, const char *arg)
{
    static const char *const cols[] = { "DATANODE", "NAME", "TYPE", "HOST", "PORT", "W/R", "ACTIVE", "IDLE",
                                        "SIZE", "EXECUTE", "READ_LOAD", "WRITE_LOAD", "STATUS", "WAITING",
                                        "ERRORS", "DATAHOST", "ROLE" };
    const mx_config_t *cfg = cl->cfg;
    table_t t;
    table_init(&t, cols, NCOLS(cols));
    for (size_t i = 0; i < cfg->n_hosts; i++) {
        const mx_host_t *h = &cfg->hosts[i];
        bool used = false;
        for (size_t d = 0; d < cfg->n_datanodes; d++) {
            const mx_datanode_t *dn = &cfg->datanodes[d];
            if (!host_in(dn->datahost, h))
                continue;
            used = true;
            if (!arg[0] || strcmp(arg, dn->name) == 0 || strcmp(arg, dn->datahost->name) == 0)
                datasource_row(&t, cfg, dn->name, h);
        }
        const mx_datahost_t *dh;
        host_role(cfg, h, &dh);
        if (!used && (!arg[0] || (dh && strcmp(arg, dh->name) == 0)))
            datasource_row(&t, cfg, "", h);
    }
    return table_send(cl, &t);
}

/* Mycat's show @@heartbeat.  RS_CODE: 1 up, -1 down, 0 not checked yet;
 * RETRY: failures in a row; TIMEOUT: heartbeat_timeout in ms;
 * EXECUTE_TIME: the last round trip in ms; LAST_ACTIVE_TIME: when the host
 * last changed state (wall clock); STOP: false (manx never pauses it). */
static bool show_heartbeat(mx_client_t *cl, const char *arg)
{
    static const char *const cols[] = { "NAME", "TYPE", "HOST", "PORT", "RS_CODE", "RETRY", "STATUS", "TIMEOUT",
                                        "EXECUTE_TIME", "LAST_ACTIVE_TIME", "STOP", "SINCE_S", "LAST_FAILURE",
                                        "LAST_ERROR", "REPLICATION", "LAG_S", "BEATS", "FAILURES" };
    const mx_config_t *cfg = cl->cfg;
    table_t t;
    table_init(&t, cols, NCOLS(cols));
    time_t now = time(NULL);
    for (size_t i = 0; i < cfg->n_hosts; i++) {
        const mx_host_t *h = &cfg->hosts[i];
        mx_host_snapshot_t s;
        mx_health_snapshot(&mx_proc.health, h->index, &s);
        const mx_datahost_t *dh;
        host_role(cfg, h, &dh);
        const char *name = mx_host_status_name(s.status);
        int rs = strcmp(name, "UP") == 0 ? 1 : strcmp(name, "DOWN") == 0 ? -1 : 0;
        const char *repl = s.repl == 1 ? "running" : s.repl == 0 ? "STOPPED" : "-";
        char lag[16] = "-", since[32] = "";
        if (s.repl == 1 && s.lag >= 0)
            snprintf(lag, sizeof(lag), "%d", s.lag);
        if (s.since_ms) {
            time_t at = now - (time_t)(s.since_ms / 1000);
            struct tm tm;
            localtime_r(&at, &tm);
            strftime(since, sizeof(since), "%Y-%m-%d %H:%M:%S", &tm);
        }
        table_row(&t, "%s\tmysql\t%s\t%u\t%d\t%d\t%s%s\t%d\t%.0f\t%s\tfalse\t%.1f\t%s\t%s\t%s\t%s\t%" PRIu64
                  "\t%" PRIu64, h->name, h->ip, h->port, rs, s.fails, name, s.suspect ? " (suspect)" : "",
                  dh ? dh->heartbeat_timeout_ms : 0, s.rtt_ms, since, s.since_ms / 1000.0,
                  s.last_fail ? mx_fail_kind_name(s.last_fail) : "-", s.last_error[0] ? s.last_error : "-", repl,
                  lag, s.beats, s.failures);
    }
    return table_send(cl, &t);
}

/* PERSISTED says whether a restart would keep writes where they go now:
 * "yes" when dnindex.properties holds the active index, otherwise what it
 * holds and why the last write failed.  (No Mycat command has these.) */
static bool show_datahost(mx_client_t *cl, const char *arg)
{
    static const char *const cols[] = { "NAME", "BALANCE", "WRITE_TYPE", "SWITCH_TYPE", "ACTIVE_INDEX",
                                        "ACTIVE_WRITEHOST", "WRITE_HOSTS", "CONSISTENCY", "PERSISTED" };
    const mx_config_t *cfg = cl->cfg;
    table_t t;
    table_init(&t, cols, NCOLS(cols));
    for (size_t d = 0; d < cfg->n_datahosts; d++) {
        const mx_datahost_t *dh = &cfg->datahosts[d];
        char list[512] = "";
        size_t n = 0;
        for (size_t w = 0; w < dh->n_write_hosts && n < sizeof(list); w++)
            n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%s", w ? "," : "", dh->write_hosts[w]->name);
        mx_datahost_snapshot_t s;
        mx_health_datahost_snapshot(&mx_proc.health, (size_t)dh->index, &s);
        char persisted[300] = "yes";
        if (s.persisted != s.active)
            snprintf(persisted, sizeof(persisted), "no: dnindex.properties has index %d%s%s", s.persisted,
                     s.persist_error[0] ? "; last write failed: " : "", s.persist_error);
        table_row(&t, "%s\t%d\t%d\t%d\t%d\t%s\t%s\t%s\t%s", dh->name, dh->balance, dh->write_type, dh->switch_type,
                  s.active, dh->write_hosts[s.active]->name, list, dh->consistency, persisted);
    }
    return table_send(cl, &t);
}

static const char *coord_mode_name(int mode)
{
    return mode == MX_COORD_ETCD ? "etcd" : mode == MX_COORD_BACKEND_LOCKS ? "backend_locks" : "none";
}

/* How this instance agrees with the others on each dataHost's writer
 * (router/coord.h).  With coordination = none it decides alone: WRITER is
 * the active writeHost and STATE is ALONE. */
static bool show_coordination(mx_client_t *cl, const char *arg)
{
    (void)arg;
    static const char *const cols[] = { "INSTANCE", "DATAHOST", "MODE", "STATE", "DECIDER", "I_DECIDE", "WRITER",
                                        "WRITER_INDEX", "WRITER_REV", "WRITER_VIEW", "LOST_S", "SWITCHES_APPLIED",
                                        "PROPOSALS_WON", "PROPOSALS_LOST", "FENCE", "FENCE_STATE", "NOTE" };
    const mx_config_t *cfg = cl->cfg;
    table_t t;
    table_init(&t, cols, NCOLS(cols));
    for (size_t d = 0; d < cfg->n_datahosts; d++) {
        const mx_datahost_t *dh = &cfg->datahosts[d];
        mx_coord_snapshot_t s;
        mx_coord_snapshot(mx_health_coord(&mx_proc.health), dh, &s);
        if (s.mode == MX_COORD_NONE) {
            s.writer_index = mx_health_writer(&mx_proc.health, (size_t)dh->index);
            snprintf(s.writer, sizeof(s.writer), "%s", dh->write_hosts[s.writer_index]->name);
        }
        const char *view = "UNKNOWN";
        if (s.writer_index >= 0 && (size_t)s.writer_index < dh->n_write_hosts)
            view = mx_host_status_name(mx_health_status(&mx_proc.health, dh->write_hosts[s.writer_index]->index));
        table_row(&t, "%s\t%s\t%s\t%s\t%s\t%d\t%s\t%d\t%" PRId64 "\t%s\t%.1f\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64
                  "\t%s\t%s\t%s", s.instance[0] ? s.instance : cfg->instance_name, dh->name,
                  coord_mode_name(s.mode), s.state ? s.state : "ALONE", s.decider, s.i_decide ? 1 : 0, s.writer,
                  s.writer_index, s.writer_rev, view, s.lost_s, s.applied, s.won, s.lost,
                  s.fence == MX_FENCE_READ_ONLY ? "read_only" : "none", s.fence_state, s.note);
    }
    return table_send(cl, &t);
}

typedef struct dn_sum_s {
    const char *name;
    uint64_t count, total_us, max_us;
    char max_sql[MX_STATS_SQL_MAX];
} dn_sum_t;

static void add_datanode(void *arg, const void *rec)
{
    dn_sum_t *d = arg;
    const mx_dn_rec_t *r = rec;
    if (strcmp(r->name, d->name) != 0)
        return;
    d->count += r->count;
    d->total_us += r->total_us;
    if (r->max_us >= d->max_us) {
        d->max_us = r->max_us;
        snprintf(d->max_sql, sizeof(d->max_sql), "%s", r->max_sql);
    }
}

/* Mycat's show @@datanode.  DATHOST is Mycat's spelling; INDEX the active
 * writeHost; ACTIVE/IDLE/SIZE the connections of the dataHost's hosts and
 * its max_con; EXECUTE, TOTAL_TIME and MAX_TIME (ms) and MAX_SQL the
 * statements of sessions using the dataNode; RECOVERY_TIME -1 (none). */
static bool show_datanode(mx_client_t *cl, const char *arg)
{
    static const char *const cols[] = { "NAME", "DATHOST", "INDEX", "TYPE", "ACTIVE", "IDLE", "SIZE", "EXECUTE",
                                        "TOTAL_TIME", "MAX_TIME", "MAX_SQL", "RECOVERY_TIME", "DATABASE" };
    const mx_config_t *cfg = cl->cfg;
    table_t t;
    table_init(&t, cols, NCOLS(cols));
    for (size_t i = 0; i < cfg->n_datanodes; i++) {
        const mx_datanode_t *dn = &cfg->datanodes[i];
        const mx_datahost_t *dh = dn->datahost;
        int active = 0, idle = 0;
        for (size_t h = 0; h < cfg->n_hosts; h++)
            if (host_in(dh, &cfg->hosts[h])) {
                active += SUM_POOLS(cfg->hosts[h].index, pub_busy, int);
                idle += SUM_POOLS(cfg->hosts[h].index, pub_idle, int);
            }
        dn_sum_t d = { .name = dn->name };
        for (int w = 0; w < mx_proc.n_workers; w++)
            mx_stats_each_datanode(&mx_proc.workers[w], add_datanode, &d);
        table_row(&t, "%s\t%s\t%d\tmysql\t%d\t%d\t%d\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\t%s\t-1\t%s", dn->name,
                  dh->name, mx_health_writer(&mx_proc.health, (size_t)dh->index), active, idle, dh->max_con, d.count,
                  d.total_us / 1000, d.max_us / 1000, d.max_sql, dn->database);
    }
    return table_send(cl, &t);
}

/* Mycat's show @@database: the logical schemas clients may use. */
static bool show_database(mx_client_t *cl, const char *arg)
{
    static const char *const cols[] = { "DATABASE" };
    const mx_config_t *cfg = cl->cfg;
    table_t t;
    table_init(&t, cols, 1);
    for (size_t i = 0; i < cfg->n_schemas; i++)
        table_row(&t, "%s", cfg->schemas[i].name);
    return table_send(cl, &t);
}

static const char *cl_state_name(int s)
{
    static const char *const names[] = { "TLS", "LOGIN", "AUTH_MORE", "IDLE", "WAIT_POOL",
                                         "REPLAY", "ACTIVE", "INFILE", "CLOSED" };
    return s >= 0 && s < (int)NCOLS(names) ? names[s] : "?";
}

static const char *sv_state_name(int s)
{
    static const char *const names[] = { "CONNECTING", "AUTH", "SETUP", "IDLE", "ACTIVE", "RESET", "KILL", "CLOSED" };
    return s >= 0 && s < (int)NCOLS(names) ? names[s] : "?";
}

typedef struct rows_s {
    table_t *t;
    int worker;
    uint16_t local_port;
} rows_t;

static void add_conn(void *arg, const void *rec)
{
    rows_t *x = arg;
    const mx_conn_row_t *r = rec;
    char host[64];
    snprintf(host, sizeof(host), "%s", r->peer);
    char *colon = strrchr(host, ':');
    const char *port = "";
    if (colon) {
        *colon = 0;
        port = colon + 1;
    }
    char backend[16] = "";
    if (r->backend)
        snprintf(backend, sizeof(backend), "S-%u", r->backend);
    table_row(x->t, "Processor%d\t%u\t%s\t%s\t%u\t%s\t%s\t%s\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\t%u\t%" PRIu64
              "\t%s\t%s\t%s\t%s\t%s\t%s", x->worker, r->id, host, port, r->admin ? 0 : x->local_port, r->user,
              r->schema, charset_name(r->collation), r->net_in, r->net_out, (now_ms() - r->born_ms) / 1000,
              r->recv_buffer, r->send_queue, r->txlevel, r->autocommit ? "true" : "false", cl_state_name(r->state),
              backend, r->sql, r->admin ? "console" : "client");
}

static uint16_t listen_port(const char *addr)
{
    struct sockaddr_storage ss;
    if (mx_parse_listen(addr, &ss) < 0)
        return 0;
    return ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                          : ((struct sockaddr_in *)&ss)->sin_port);
}

/* Mycat's show @@connection: one row per client session, as each worker
 * published it on its last janitor tick (at most 100 ms old while a console
 * is connected).  LOCAL_PORT is manx's port; txlevel what the session set
 * ("" for the server's default); ALIVE_TIME(S) seconds since accept. */
static bool show_connection(mx_client_t *cl, const char *arg)
{
    static const char *const cols[] = { "PROCESSOR", "ID", "HOST", "PORT", "LOCAL_PORT", "USER", "SCHEMA",
                                        "CHARSET", "NET_IN", "NET_OUT", "ALIVE_TIME(S)", "RECV_BUFFER",
                                        "SEND_QUEUE", "txlevel", "autocommit", "STATE", "BACKEND",
                                        "CURRENT_STATEMENT", "KIND" };
    table_t t;
    table_init(&t, cols, NCOLS(cols));
    rows_t x = { &t, 0, listen_port(mx_proc.cfg->listen) };
    for (x.worker = 0; x.worker < mx_proc.n_workers; x.worker++)
        mx_stats_each_conn(&mx_proc.workers[x.worker], add_conn, &x);
    return table_send(cl, &t);
}

static void add_backend(void *arg, const void *rec)
{
    rows_t *x = arg;
    const mx_backend_row_t *r = rec;
    char client[16] = "";
    if (r->client)
        snprintf(client, sizeof(client), "C-%u", r->client);
    table_row(x->t, "Processor%d\t%u\t%u\t%s\t%u\t%u\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\tfalse\t%s\t%" PRIu64
              "\t%s\t%s\t%s\t%s\t%s\t%s\t%s", x->worker, r->id, r->thread_id, r->ip, r->port, r->local_port,
              r->net_in, r->net_out, (now_ms() - r->born_ms) / 1000, r->borrowed ? "true" : "false", r->send_queue,
              r->schema, charset_name(r->collation), r->txlevel, r->autocommit ? "true" : "false", r->host_name,
              sv_state_name(r->state), client);
}

/* Mycat's show @@backend: one row per backend connection.  mysqlId is the
 * backend's thread id; life seconds since connect; borrowed: linked to a
 * session now; schema the database it has selected. */
static bool show_backend(mx_client_t *cl, const char *arg)
{
    static const char *const cols[] = { "processor", "id", "mysqlId", "host", "port", "l_port", "net_in",
                                        "net_out", "life", "closed", "borrowed", "SEND_QUEUE", "schema",
                                        "charset", "txlevel", "autocommit", "HOST_NAME", "STATE", "CLIENT" };
    table_t t;
    table_init(&t, cols, NCOLS(cols));
    rows_t x = { &t, 0, 0 };
    for (x.worker = 0; x.worker < mx_proc.n_workers; x.worker++)
        mx_stats_each_backend(&mx_proc.workers[x.worker], add_backend, &x);
    return table_send(cl, &t);
}

typedef struct sqls_s {
    mx_sql_rec_t *v;
    size_t n, cap;
} sqls_t;

static void add_sql(void *arg, const void *rec)
{
    sqls_t *x = arg;
    if (x->n < x->cap)
        x->v[x->n++] = *(const mx_sql_rec_t *)rec;
}

static int by_start_desc(const void *a, const void *b)
{
    const mx_sql_rec_t *x = a, *y = b;
    return x->start_ms < y->start_ms ? 1 : x->start_ms > y->start_ms ? -1 : 0;
}

static int by_time_desc(const void *a, const void *b)
{
    const mx_sql_rec_t *x = a, *y = b;
    return x->exec_us < y->exec_us ? 1 : x->exec_us > y->exec_us ? -1 : 0;
}

static bool gather_sql(bool slow, sqls_t *x)
{
    x->n = 0;
    x->cap = (size_t)mx_proc.n_workers * (slow ? MX_STATS_SLOW : MX_STATS_RECENT);
    if (!(x->v = malloc(x->cap * sizeof(*x->v))))
        return false;
    for (int w = 0; w < mx_proc.n_workers; w++)
        mx_stats_each_sql(&mx_proc.workers[w], slow, add_sql, x);
    return true;
}

/* Mycat's show @@sql: the most recent statements first (ID numbers the
 * rows, as Mycat's does); START_TIME ms since the epoch, EXECUTE_TIME ms. */
static bool show_sql(mx_client_t *cl, const char *arg)
{
    static const char *const cols[] = { "ID", "USER", "START_TIME", "EXECUTE_TIME", "SQL" };
    sqls_t x;
    if (!gather_sql(false, &x))
        return mx_client_send_error(cl, 1037, "HY001", "out of memory");
    qsort(x.v, x.n, sizeof(*x.v), by_start_desc);
    table_t t;
    table_init(&t, cols, NCOLS(cols));
    for (size_t i = 0; i < x.n && i < MX_STATS_RECENT; i++)
        table_row(&t, "%zu\t%s\t%" PRIu64 "\t%" PRIu64 "\t%s", i + 1, x.v[i].user, x.v[i].start_ms,
                  x.v[i].exec_us / 1000, x.v[i].sql);
    free(x.v);
    return table_send(cl, &t);
}

/* Mycat's show @@sql.slow: statements that took reload @@sqlslow ms or
 * more, the slowest first. */
static bool show_sql_slow(mx_client_t *cl, const char *arg)
{
    static const char *const cols[] = { "USER", "START_TIME", "EXECUTE_TIME", "SQL" };
    sqls_t x;
    if (!gather_sql(true, &x))
        return mx_client_send_error(cl, 1037, "HY001", "out of memory");
    qsort(x.v, x.n, sizeof(*x.v), by_time_desc);
    table_t t;
    table_init(&t, cols, NCOLS(cols));
    for (size_t i = 0; i < x.n; i++)
        table_row(&t, "%s\t%" PRIu64 "\t%" PRIu64 "\t%s", x.v[i].user, x.v[i].start_ms, x.v[i].exec_us / 1000,
                  x.v[i].sql);
    free(x.v);
    return table_send(cl, &t);
}

/* reload @@sqlslow = N: statements of N ms or more go to show @@sql.slow
 * (0: none). */
static bool reload_sqlslow(mx_client_t *cl, const char *arg)
{
    while (*arg == ' ' || *arg == '=')
        arg++;
    size_t nd = strspn(arg, "0123456789");
    if (nd == 0 || nd > 9 || arg[nd] != 0)
        return mx_client_send_error(cl, 1105, "HY000", "usage: reload @@sqlslow = <milliseconds>");
    mx_stats_set_slow_ms((uint32_t)atoi(arg));
    mx_info("admin console: %s set the slow statement threshold to %s ms", cl->peer, arg);
    return mx_client_send_ok(cl);
}

/* reload @@sqlstat = open|close: record statement digests or not (Mycat's
 * switch for its SQL statistics). */
static bool reload_sqlstat(mx_client_t *cl, const char *arg)
{
    while (*arg == ' ' || *arg == '=')
        arg++;
    if (strcasecmp(arg, "open") != 0 && strcasecmp(arg, "close") != 0)
        return mx_client_send_error(cl, 1105, "HY000", "usage: reload @@sqlstat = open|close");
    mx_stats_set_digests(strcasecmp(arg, "open") == 0);
    return mx_client_send_ok(cl);
}

typedef struct digests_s {
    mx_digest_rec_t *v;
    size_t n, cap;
} digests_t;

static void add_digest(void *arg, const void *rec)
{
    digests_t *x = arg;
    if (x->n < x->cap)
        x->v[x->n++] = *(const mx_digest_rec_t *)rec;
}

static int by_hash(const void *a, const void *b)
{
    const mx_digest_rec_t *x = a, *y = b;
    return x->hash < y->hash ? -1 : x->hash > y->hash;
}

static int by_total_desc(const void *a, const void *b)
{
    const mx_digest_rec_t *x = a, *y = b;
    return x->total_us < y->total_us ? 1 : x->total_us > y->total_us ? -1 : 0;
}

/* show @@digest (manx's own): statements folded to fingerprints, merged
 * over workers, the 100 with the most total time first.  Times in ms
 * (P99 the upper edge of its histogram bucket, within 25%). */
static bool show_digest(mx_client_t *cl, const char *arg)
{
    static const char *const cols[] = { "DIGEST", "SQL", "COUNT", "ERRORS", "TOTAL_TIME", "AVG_TIME", "MAX_TIME",
                                        "P99_TIME", "ROWS_SENT", "WRITER", "READER" };
    digests_t x = { NULL, 0, (size_t)mx_proc.n_workers * MX_STATS_DIGESTS };
    if (!(x.v = malloc(x.cap * sizeof(*x.v))))
        return mx_client_send_error(cl, 1037, "HY001", "out of memory");
    for (int w = 0; w < mx_proc.n_workers; w++)
        mx_stats_each_digest(&mx_proc.workers[w], add_digest, &x);
    qsort(x.v, x.n, sizeof(*x.v), by_hash);
    size_t m = 0;
    for (size_t i = 0; i < x.n; i++) {
        if (m > 0 && x.v[m - 1].hash == x.v[i].hash)
            mx_stats_merge_digest(&x.v[m - 1], &x.v[i]);
        else
            x.v[m++] = x.v[i];
    }
    qsort(x.v, m, sizeof(*x.v), by_total_desc);
    table_t t;
    table_init(&t, cols, NCOLS(cols));
    for (size_t i = 0; i < m && i < 100; i++) {
        const mx_digest_rec_t *d = &x.v[i];
        table_row(&t, "%016" PRIx64 "\t%s\t%" PRIu64 "\t%" PRIu64 "\t%.3f\t%.3f\t%.3f\t%.3f\t%" PRIu64 "\t%" PRIu64
                  "\t%" PRIu64, d->hash, d->text, d->count, d->errors, d->total_us / 1000.0,
                  d->count ? d->total_us / 1000.0 / (double)d->count : 0.0, d->max_us / 1000.0,
                  mx_stats_p99(d->hist) / 1000.0, d->rows, d->writer, d->reader);
    }
    free(x.v);
    return table_send(cl, &t);
}

static bool reset_digest(mx_client_t *cl, const char *arg)
{
    for (int w = 0; w < mx_proc.n_workers; w++)
        mx_stats_reset_digests(&mx_proc.workers[w]);
    return mx_client_send_ok(cl);
}

/* Mycat's show @@server (Mycat's memory columns are the JVM's).
 * USED_MEMORY: the resident set in bytes; TOTAL_MEMORY: the mapped
 * address space; MAX_MEMORY: the address-space limit, -1 for none;
 * RELOAD_TIME: last good reload (ms since the epoch; start-up at first);
 * ROLLBACK_TIME: -1 (manx keeps no previous configuration to roll back
 * to); STATUS: ON, or OFF after `offline`. */
static bool show_server(mx_client_t *cl, const char *arg)
{
    static const char *const cols[] = { "UPTIME", "USED_MEMORY", "TOTAL_MEMORY", "MAX_MEMORY", "RELOAD_TIME",
                                        "ROLLBACK_TIME", "CHARSET", "STATUS", "UPTIME_S", "WORKERS", "CLIENTS",
                                        "MAX_CONNECTIONS", "GENERATION", "VERSION" };
    uint64_t up = now_ms() - mx_proc.started_ms;
    char uptime[64];
    format_age(up, uptime, sizeof(uptime));
    long size = 0, rss = 0, page = sysconf(_SC_PAGESIZE);
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%ld %ld", &size, &rss) != 2)
            size = rss = 0;
        fclose(f);
    }
    struct rlimit rl;
    long long max = getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY ? (long long)rl.rlim_cur : -1;
    table_t t;
    table_init(&t, cols, NCOLS(cols));
    table_row(&t, "%s\t%ld\t%ld\t%lld\t%" PRIu64 "\t-1\t%s\t%s\t%" PRIu64 "\t%d\t%d\t%d\t%u\tmanx %s", uptime,
              rss * page, size * page, max,
              atomic_load(&mx_proc.reload_ms), charset_name(atomic_load(&mx_proc.backend_collation)),
              atomic_load(&mx_proc.offline) ? "OFF" : "ON", up / 1000, mx_proc.n_workers,
              atomic_load(&mx_proc.n_clients), cl->cfg->max_connections, cl->cfg->generation, MX_VERSION);
    return table_send(cl, &t);
}

/* Mycat's show @@processor: a worker is manx's processor.  REACT_COUNT:
 * statements it sent to backends; R_QUEUE: sessions waiting for a pooled
 * connection; W_QUEUE: bytes waiting to be written; FREE_BUFFER and
 * TOTAL_BUFFER: spare and all read buffers (bytes); BU_PERCENT: used
 * share; BU_WARNS: 0; FC_COUNT / BC_COUNT: client / backend connections. */
static bool show_processor(mx_client_t *cl, const char *arg)
{
    static const char *const cols[] = { "NAME", "NET_IN", "NET_OUT", "REACT_COUNT", "R_QUEUE", "W_QUEUE",
                                        "FREE_BUFFER", "TOTAL_BUFFER", "BU_PERCENT", "BU_WARNS", "FC_COUNT",
                                        "BC_COUNT" };
    table_t t;
    table_init(&t, cols, NCOLS(cols));
    for (int w = 0; w < mx_proc.n_workers; w++) {
        mx_worker_row_t r;
        mx_stats_worker(&mx_proc.workers[w], &r);
        uint64_t total = (uint64_t)(r.bufs_used + r.bufs_free) * MX_BUF_SIZE;
        table_row(&t, "Processor%d\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\t%u\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64
                  "\t%" PRIu64 "\t0\t%u\t%u", w, r.net_in, r.net_out, r.started, r.waiting, r.send_queue,
                  (uint64_t)r.bufs_free * MX_BUF_SIZE, total, total ? r.bufs_used * MX_BUF_SIZE * 100 / total : 0,
                  r.clients, r.backends);
    }
    return table_send(cl, &t);
}

/* Mycat's show @@threadpool: manx's threads.  A worker is one thread
 * whose tasks are statements (ACTIVE_COUNT: in flight; TASK_QUEUE_SIZE:
 * waiting for a pooled connection); the heartbeat thread's are beats. */
static bool show_threadpool(mx_client_t *cl, const char *arg)
{
    static const char *const cols[] = { "NAME", "POOL_SIZE", "ACTIVE_COUNT", "TASK_QUEUE_SIZE", "COMPLETED_TASK",
                                        "TOTAL_TASK" };
    table_t t;
    table_init(&t, cols, NCOLS(cols));
    for (int w = 0; w < mx_proc.n_workers; w++) {
        mx_worker_row_t r;
        mx_stats_worker(&mx_proc.workers[w], &r);
        table_row(&t, "worker-%d\t1\t%u\t%u\t%" PRIu64 "\t%" PRIu64, w, r.active, r.waiting, r.finished, r.started);
    }
    uint64_t beats = 0;
    const mx_config_t *cfg = cl->cfg;
    for (size_t i = 0; i < cfg->n_hosts; i++) {
        mx_host_snapshot_t s;
        mx_health_snapshot(&mx_proc.health, cfg->hosts[i].index, &s);
        beats += s.beats;
    }
    table_row(&t, "heartbeat\t1\t0\t0\t%" PRIu64 "\t%" PRIu64, beats, beats);
    return table_send(cl, &t);
}

typedef struct params_s {
    table_t *t;
} params_t;

static void add_param(void *arg, const char *section, const char *key, const char *value, const char *help)
{
    params_t *p = arg;
    table_row(p->t, "%s\t%s\t%s\t%s", section, key, value, help);
}

static bool show_sysparam(mx_client_t *cl, const char *arg)
{
    static const char *const cols[] = { "SECTION", "KEY", "VALUE", "DESCRIPTION" };
    table_t t;
    table_init(&t, cols, 4);
    params_t p = { &t };
    mx_conf_each_param(cl->cfg, add_param, &p);
    return table_send(cl, &t);
}

/* switch @@datasource <datahost>:<index> — Mycat's manual switch.  The
 * index must be plain digits: atoi() made "localhost1:" a switch to 0. */
static bool switch_datasource(mx_client_t *cl, const char *arg)
{
    const mx_config_t *cfg = cl->cfg;
    char name[MX_NAME_MAX];
    const char *colon = strrchr(arg, ':');
    const char *digits = colon ? colon + 1 : NULL;
    size_t nd = digits ? strspn(digits, "0123456789") : 0;
    if (!colon || colon == arg || (size_t)(colon - arg) >= sizeof(name) || nd == 0 || nd > 4 || digits[nd] != 0)
        return mx_client_send_error(cl, 1105, "HY000", "usage: switch @@datasource <datahost>:<writeHost index>");
    memcpy(name, arg, (size_t)(colon - arg));
    name[colon - arg] = 0;
    int idx = atoi(digits);
    for (size_t d = 0; d < cfg->n_datahosts; d++) {
        if (strcmp(cfg->datahosts[d].name, name) != 0)
            continue;
        if (!mx_health_switch(&mx_proc.health, &cfg->datahosts[d], idx))
            return mx_client_send_error(cl, 1105, "HY000", "dataHost %s has writeHost indexes 0..%zu", name,
                                        cfg->datahosts[d].n_write_hosts - 1);
        mx_warn("admin console: %s asked to switch dataHost %s to writeHost %d", cl->peer, name, idx);
        return mx_client_send_ok(cl);
    }
    return mx_client_send_error(cl, 1105, "HY000", "unknown dataHost '%s'", name);
}

static bool reload_dnindex(mx_client_t *cl, const char *arg)
{
    mx_health_reload(&mx_proc.health);
    return mx_client_send_ok(cl);
}

/* kill @@connection id[,id...]: close those client sessions, whichever
 * worker holds them (their statements are killed on the backend, their
 * backends reset or closed as at any disconnect).  Every id is checked
 * before any is killed; console sessions are not killable from here. */
static bool kill_connection(mx_client_t *cl, const char *arg)
{
    uint32_t ids[64];
    size_t n = 0;
    const char *p = arg;
    for (;;) {
        while (*p == ' ')
            p++;
        size_t nd = strspn(p, "0123456789");
        if (nd == 0 || nd > 10 || n == NCOLS(ids))
            return mx_client_send_error(cl, 1105, "HY000", "usage: kill @@connection <id>[,<id>...] (at most %zu)",
                                        NCOLS(ids));
        unsigned long long v = strtoull(p, NULL, 10);
        if (v == 0 || v > UINT32_MAX)
            return mx_client_send_error(cl, 1094, "HY000", "Unknown thread id: %llu", v);
        ids[n++] = (uint32_t)v;
        p += nd;
        while (*p == ' ')
            p++;
        if (*p == 0)
            break;
        if (*p++ != ',')
            return mx_client_send_error(cl, 1105, "HY000", "usage: kill @@connection <id>[,<id>...]");
    }
    mx_reg_info_t t[64];
    for (size_t i = 0; i < n; i++)
        if (!mx_registry_find(ids[i], &t[i]) || t[i].admin)
            return mx_client_send_error(cl, 1094, "HY000", "Unknown thread id: %u (no client session has it)", ids[i]);
    mx_worker_t *self = cl->conn.w;
    for (size_t i = 0; i < n; i++) {
        mx_warn("admin console: %s killed connection C-%u", cl->peer, ids[i]);
        if (t[i].worker == self->index)
            mx_client_kill(self, ids[i], false);
        else
            mx_worker_post_kill(&mx_proc.workers[t[i].worker], ids[i], false);
    }
    return mx_client_send_ok(cl);
}

/* offline / online: refuse new client connections on listen (a new client
 * gets ERROR 1053 in place of the greeting; open sessions go on; the
 * console stays open), or take them again. */
static bool set_offline(mx_client_t *cl, const char *arg)
{
    if (!atomic_exchange(&mx_proc.offline, true))
        mx_warn("admin console: %s took manx offline: new client connections are refused", cl->peer);
    return mx_client_send_ok(cl);
}

static bool set_online(mx_client_t *cl, const char *arg)
{
    if (atomic_exchange(&mx_proc.offline, false))
        mx_warn("admin console: %s put manx online again", cl->peer);
    return mx_client_send_ok(cl);
}

/* reload @@config and reload @@config_all: the reload SIGHUP runs, on the
 * main thread (reloads publish generations from there); the answer comes
 * back through mx_admin_answer.  _all re-reads dnindex.properties too. */
static bool reload_config(mx_client_t *cl, bool all)
{
    mx_console_req_t *q = &mx_proc.console;
    uv_mutex_lock(&q->lock);
    if (q->client != 0 || !q->main_wakeup) {
        bool busy = q->client != 0;
        uv_mutex_unlock(&q->lock);
        return mx_client_send_error(cl, 1105, "HY000", "%s", busy ? "another reload is running: try again"
                                                                  : "manx is shutting down");
    }
    q->client = cl->id;
    q->all = all;
    q->done = false;
    uv_async_send(q->main_wakeup);
    uv_mutex_unlock(&q->lock);
    return true;
}

static bool reload_config_one(mx_client_t *cl, const char *arg)
{
    return reload_config(cl, false);
}

static bool reload_config_all(mx_client_t *cl, const char *arg)
{
    return reload_config(cl, true);
}

void mx_admin_answer(uv_async_t *a)
{
    mx_worker_t *w = a->data;
    mx_console_req_t *q = &mx_proc.console;
    uv_mutex_lock(&q->lock);
    if (!q->done || q->client == 0) {
        uv_mutex_unlock(&q->lock);
        return;
    }
    uint32_t id = q->client;
    bool ok = q->ok;
    char err[sizeof(q->err)];
    memcpy(err, q->err, sizeof(err));
    q->client = 0;
    q->done = false;
    uv_mutex_unlock(&q->lock);
    for (mx_list_t *l = w->clients.next; l != &w->clients; l = l->next) {
        mx_client_t *cl = MX_CONTAINER_OF(l, mx_client_t, link);
        if (cl->id != id || !cl->admin || cl->state == CL_CLOSED)
            continue;
        /* The reply's failure closes nothing here: the session's next
         * read or write notices. */
        if (ok)
            (void)mx_client_send_ok(cl);
        else
            (void)mx_client_send_error(cl, 1105, "HY000", "reload refused, the running configuration stays: %s",
                                       err);
        return;
    }
}

static const struct {
    const char *command;         /* lower case, as typed after spaces are squeezed */
    bool (*fn)(mx_client_t *cl, const char *arg);
    const char *help;
} commands[] = {
    { "show @@help", show_help, "this list" },
    { "show @@version", show_version, "manx's version" },
    { "show @@server", show_server, "uptime, memory, last reload, charset, ON/OFF (offline)" },
    { "show @@datasource", show_datasource, "every dataNode's hosts: role, pooled connections, statements, reads, writes (optionally: show @@datasource <dataNode or dataHost>)" },
    { "show @@heartbeat", show_heartbeat, "every host: heartbeat result, retries, round trip, failures, replication, lag" },
    { "show @@datahost", show_datahost, "every dataHost: balance, write_type, switch_type, active writeHost, whether dnindex.properties holds it (PERSISTED)" },
    { "show @@coordination", show_coordination, "every dataHost: how this instance agrees with the others on its writer (coordination), who decides, the agreed writer, fencing" },
    { "show @@datanode", show_datanode, "every dataNode: dataHost, active index, connections, statements and their times" },
    { "show @@database", show_database, "the logical schemas of the configuration" },
    { "show @@connection", show_connection, "one row per client session" },
    { "show @@backend", show_backend, "one row per backend connection" },
    { "show @@sql", show_sql, "the most recent statements" },
    { "show @@sql.slow", show_sql_slow, "statements slower than reload @@sqlslow" },
    { "show @@digest", show_digest, "statements folded to fingerprints: count, errors, times, rows, writer/reader" },
    { "show @@processor", show_processor, "per worker: bytes, statements, queues, buffers, connections" },
    { "show @@threadpool", show_threadpool, "manx's threads: the workers and the heartbeat" },
    { "show @@sysparam", show_sysparam, "configuration parameters (passwords hidden)" },
    { "kill @@connection", kill_connection, "kill @@connection <id>[,<id>...]: close client sessions" },
    { "offline", set_offline, "refuse new client connections (open sessions go on)" },
    { "online", set_online, "accept new client connections again" },
    { "reload @@config", reload_config_one, "load the configuration file again (as SIGHUP); a bad file changes nothing" },
    { "reload @@config_all", reload_config_all, "reload @@config and re-read dnindex.properties" },
    { "reload @@sqlslow", reload_sqlslow, "reload @@sqlslow = <ms>: the threshold of show @@sql.slow" },
    { "reload @@sqlstat", reload_sqlstat, "reload @@sqlstat = open|close: record digests or not" },
    { "reload @@dnindex", reload_dnindex, "re-read dnindex.properties" },
    { "reset @@digest", reset_digest, "forget every digest" },
    { "switch @@datasource", switch_datasource, "switch @@datasource <datahost>:<index>: move writes by hand (persisted in dnindex.properties)" },
};

static bool show_help(mx_client_t *cl, const char *arg)
{
    static const char *const cols[] = { "STATEMENT", "DESCRIPTION" };
    table_t t;
    table_init(&t, cols, 2);
    for (size_t i = 0; i < NCOLS(commands); i++)
        table_row(&t, "%s\t%s", commands[i].command, commands[i].help);
    return table_send(cl, &t);
}

bool mx_admin_query(mx_client_t *cl, const uint8_t *q, size_t n)
{
    /* Squeeze spaces and drop a trailing ';'.  Keywords are matched on a
     * lower-cased copy; arguments are taken from `text`, whose case is the
     * operator's, because dataHost and host names are case-sensitive. */
    char text[512], lower[512];
    size_t k = 0;
    bool space = true;
    for (size_t i = 0; i < n; i++) {
        /* Cut, a statement could mean something else (a name cut short). */
        if (k + 1 >= sizeof(text))
            return mx_client_send_error(cl, 1105, "HY000", "manx admin console: statement longer than %zu bytes",
                                        sizeof(text) - 1);
        char ch = (char)q[i];
        if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r') {
            if (!space)
                text[k++] = ' ';
            space = true;
            continue;
        }
        space = false;
        text[k++] = ch;
    }
    while (k && (text[k - 1] == ' ' || text[k - 1] == ';'))
        k--;
    text[k] = 0;
    for (size_t i = 0; i <= k; i++)
        lower[i] = text[i] >= 'A' && text[i] <= 'Z' ? (char)(text[i] + 32) : text[i];
    for (size_t i = 0; i < NCOLS(commands); i++) {
        size_t l = strlen(commands[i].command);
        if (strncmp(lower, commands[i].command, l) != 0 || (lower[l] != 0 && lower[l] != ' ' && lower[l] != '='))
            continue;
        const char *arg = text[l] == ' ' ? text + l + 1 : text + l;
        mx_debug("admin console %s: %s", cl->peer, text);
        return commands[i].fn(cl, arg);
    }
    /* Clients probe the server at connect (JDBC, GUI tools): answer the
     * harmless ones instead of failing the login. */
    if (strncmp(lower, "select @@version_comment", 24) == 0 || strcmp(lower, "select 1") == 0 ||
        strncmp(lower, "set ", 4) == 0)
        return strncmp(lower, "set ", 4) == 0 ? mx_client_send_ok(cl) : show_version(cl, "");
    char list[2048];
    size_t len = 0;
    for (size_t i = 0; i < NCOLS(commands) && len < sizeof(list); i++)
        len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s", i ? ", " : "", commands[i].command);
    return mx_client_send_error(cl, 1064, "42000", "manx admin console: unknown statement '%.64s'; the console knows: %s",
                                text, list);
}
