/* The metrics endpoint on metrics_listen: GNU libmicrohttpd parses HTTP
 * (bounded request size, bounded connections, idle timeout) and runs on
 * the main thread's libuv loop through its epoll descriptor, so no thread
 * of its own ever touches manx's state.  Pages are built from what workers
 * publish (pub_* atomics), the heartbeat's snapshots and a ring of
 * one-second samples kept here for the status page's chart. */
#include "metrics.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "log.h"
#include "mx_version.h"
#include "router/coord.h"
#include "status_html.h"
#include "worker.h"

#define MAX_HTTP_CONNS 32        /* concurrent HTTP connections; more wait in the backlog */
#define HTTP_TIMEOUT_S 10        /* an idle or slow HTTP connection is closed after this */
#define HTTP_MEM_LIMIT 16384     /* per connection: the request head must fit (else 431) */
#define N_SAMPLES 301            /* one a second: five minutes of chart */

/* Upper bounds of the statement duration histogram (microseconds). */
static const uint64_t mx_lat_bound_us[MX_LAT_BUCKETS] = {
    100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 1000000, 2500000, 10000000,
};

/* Totals over all workers at one instant, for the chart. */
typedef struct sample_s {
    uint64_t unix_ms;
    uint64_t stmts, timed, lat_us, errors; /* timed: statements in the histogram (those with a response) */
} sample_t;

/* What the endpoint keeps: main thread only. */
typedef struct mx_metrics_s {
    struct MHD_Daemon *d;
    uv_poll_t poll;              /* on MHD's epoll descriptor */
    uv_timer_t timer;            /* MHD's next timeout (or "run again now") */
    uv_timer_t sampler;          /* one sample a second */
    sample_t samples[N_SAMPLES]; /* ring; the newest at (n_samples - 1) % N_SAMPLES */
    uint64_t n_samples;
    int n_closing;               /* handles whose close callback has not run */
} mx_metrics_t;

/* ---- counters (workers) ------------------------------------------------------ */

void mx_metrics_publish(mx_worker_t *w)
{
    mx_wstats_t *s = &w->wstats;
    for (int i = 0; i < MX_SIDES; i++) {
        atomic_store_explicit(&s->pub_bytes[i][0], w->bytes_in[i], memory_order_relaxed);
        atomic_store_explicit(&s->pub_bytes[i][1], w->bytes_out[i], memory_order_relaxed);
    }
    for (int i = 0; i < MX_ST_N; i++)
        atomic_store_explicit(&s->pub_v[i], s->v[i], memory_order_relaxed);
    /* Codes before counts: a reader may see a code with an older count,
     * never a count under the wrong code (a slot keeps its code). */
    for (int i = 0; i < MX_ERR_SLOTS; i++)
        atomic_store_explicit(&s->pub_err_code[i], s->err_code[i], memory_order_release);
    for (int i = 0; i < MX_ERR_SLOTS; i++)
        for (int f = 0; f < 2; f++)
            atomic_store_explicit(&s->pub_err_n[i][f], s->err_n[i][f], memory_order_relaxed);
}

void mx_metrics_stmt_done(mx_wstats_t *s, uint64_t us)
{
    int b = 0;
    while (b < MX_LAT_BUCKETS && us > mx_lat_bound_us[b])
        b++;
    s->v[MX_ST_LAT + b]++;
    s->v[MX_ST_LAT_SUM_US] += us;
}

/* Sum of published counter i over all workers. */
static uint64_t sum_v(int i)
{
    uint64_t n = 0;
    for (int w = 0; w < mx_proc.n_workers; w++)
        n += atomic_load_explicit(&mx_proc.workers[w].wstats.pub_v[i], memory_order_relaxed);
    return n;
}

/* Sum of the published byte counters of `side` (MX_SIDE_*), in (dir 0)
 * or out (dir 1), over all workers. */
static uint64_t sum_bytes(int side, int dir)
{
    uint64_t n = 0;
    for (int w = 0; w < mx_proc.n_workers; w++)
        n += atomic_load_explicit(&mx_proc.workers[w].wstats.pub_bytes[side][dir], memory_order_relaxed);
    return n;
}

/* Sum of one published field of the pools of host slot hi over all
 * workers and backend accounts. */
#define SUM_POOLS(hi, field)                                                            \
    ({                                                                                  \
        uint64_t _s = 0;                                                                \
        for (int _w = 0; _w < mx_proc.n_workers; _w++)                                  \
            for (int _a = 0; _a < MX_MAX_ACCOUNTS; _a++) {                              \
                mx_pool_t *_p = mx_worker_pool(&mx_proc.workers[_w], hi, _a);           \
                if (_p)                                                                 \
                    _s += (uint64_t)atomic_load_explicit(&_p->field, memory_order_relaxed); \
            }                                                                           \
        _s;                                                                             \
    })

/* ---- output buffer ------------------------------------------------------------- */

typedef struct out_s {
    char *p;
    size_t len, cap;
    bool failed;                 /* out of memory: checked once, when the response is made */
} out_t;

static void put(out_t *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(out_t *o, const char *fmt, ...)
{
    if (o->failed)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(o->p ? o->p + o->len : NULL, o->p ? o->cap - o->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            o->failed = true;
            return;
        }
        if (o->p && o->len + (size_t)n < o->cap) {
            o->len += (size_t)n;
            return;
        }
        size_t cap = o->cap ? o->cap * 2 : 8192;
        while (cap <= o->len + (size_t)n)
            cap *= 2;
        char *np = realloc(o->p, cap);
        if (!np) {
            o->failed = true;
            return;
        }
        o->p = np;
        o->cap = cap;
    }
}

/* A label value or a JSON string body: the bytes of s with \, " and
 * control bytes escaped (and, for JSON in HTML, < as \u003c). */
static void put_escaped(out_t *o, const char *s, bool json)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '\\' || c == '"')
            put(o, "\\%c", c);
        else if (c == '\n')
            put(o, "\\n");
        else if (json && (c < 0x20 || c == '<' || c == 0x7f))
            put(o, "\\u%04x", c);
        else if (c < 0x20 || c == 0x7f)
            put(o, " ");
        else
            put(o, "%c", c);
    }
}

/* ---- what hosts are -------------------------------------------------------------- */

typedef struct host_view_s {
    const mx_host_t *host;
    const mx_datahost_t *dh;     /* NULL: listed by no dataHost */
    const char *role;            /* "writer" (active writeHost), "standby" (other writeHost), "reader", "none" */
} host_view_t;

static host_view_t host_view(const mx_config_t *cfg, const mx_host_t *h)
{
    host_view_t v = { h, NULL, "none" };
    for (size_t d = 0; d < cfg->n_datahosts; d++) {
        const mx_datahost_t *dh = &cfg->datahosts[d];
        int active = mx_health_writer(&mx_proc.health, (size_t)dh->index);
        for (size_t w = 0; w < dh->n_write_hosts; w++) {
            if (dh->write_hosts[w] == h) {
                v.dh = dh;
                v.role = (int)w == active ? "writer" : "standby";
                return v;
            }
            for (size_t r = 0; r < dh->write_hosts[w]->n_read_hosts; r++)
                if (dh->write_hosts[w]->read_hosts[r] == h) {
                    v.dh = dh;
                    v.role = "reader";
                    return v;
                }
        }
    }
    return v;
}

static bool writer_up(const mx_datahost_t *dh)
{
    int active = mx_health_writer(&mx_proc.health, (size_t)dh->index);
    return mx_health_status(&mx_proc.health, dh->write_hosts[active]->index) == MX_HOST_UP;
}

/* ---- GET /metrics ------------------------------------------------------------------ */

static void help(out_t *o, const char *name, const char *type, const char *text)
{
    put(o, "# HELP %s %s\n# TYPE %s %s\n", name, text, name, type);
}

/* `name{host="..",datahost=".."` without the closing brace, for more labels. */
static void host_labels(out_t *o, const char *name, const host_view_t *v)
{
    put(o, "%s{host=\"", name);
    put_escaped(o, v->host->name, false);
    put(o, "\",datahost=\"");
    put_escaped(o, v->dh ? v->dh->name : "", false);
    put(o, "\"");
}

static void metrics_hosts(out_t *o, const mx_config_t *cfg, host_view_t *views)
{
    mx_host_snapshot_t *snaps = calloc(cfg->n_hosts ? cfg->n_hosts : 1, sizeof(*snaps));
    if (!snaps) {
        o->failed = true;
        return;
    }
    for (size_t i = 0; i < cfg->n_hosts; i++)
        mx_health_snapshot(&mx_proc.health, cfg->hosts[i].index, &snaps[i]);

    help(o, "manx_host_up", "gauge", "1 when the heartbeat finds the host up, 0 when down or not yet known");
    for (size_t i = 0; i < cfg->n_hosts; i++) {
        host_labels(o, "manx_host_up", &views[i]);
        put(o, ",address=\"");
        put_escaped(o, cfg->hosts[i].address, false);
        put(o, "\"} %d\n", snaps[i].status == MX_HOST_UP);
    }
    help(o, "manx_host_role", "gauge", "always 1; the role label says what the host is now: writer (the active writeHost), standby (another writeHost), reader (a readHost)");
    for (size_t i = 0; i < cfg->n_hosts; i++) {
        host_labels(o, "manx_host_role", &views[i]);
        put(o, ",role=\"%s\"} 1\n", views[i].role);
    }
    help(o, "manx_host_backend_connections", "gauge", "backend connections of manx's pools, by state (active: serving a statement or a session)");
    for (size_t i = 0; i < cfg->n_hosts; i++) {
        int hi = cfg->hosts[i].index;
        host_labels(o, "manx_host_backend_connections", &views[i]);
        put(o, ",state=\"active\"} %" PRIu64 "\n", SUM_POOLS(hi, pub_busy));
        host_labels(o, "manx_host_backend_connections", &views[i]);
        put(o, ",state=\"idle\"} %" PRIu64 "\n", SUM_POOLS(hi, pub_idle));
        uint64_t total = SUM_POOLS(hi, pub_total), busy = SUM_POOLS(hi, pub_busy), idle = SUM_POOLS(hi, pub_idle);
        host_labels(o, "manx_host_backend_connections", &views[i]);
        put(o, ",state=\"other\"} %" PRIu64 "\n", total > busy + idle ? total - busy - idle : 0);
    }
    help(o, "manx_host_waiting_clients", "gauge", "client sessions waiting for a backend connection of the host");
    for (size_t i = 0; i < cfg->n_hosts; i++) {
        host_labels(o, "manx_host_waiting_clients", &views[i]);
        put(o, "} %" PRIu64 "\n", SUM_POOLS(cfg->hosts[i].index, pub_waiting));
    }
    help(o, "manx_host_statements_total", "counter", "statements sent to the host, by how they were routed (read: by balance to a read target)");
    for (size_t i = 0; i < cfg->n_hosts; i++) {
        host_labels(o, "manx_host_statements_total", &views[i]);
        put(o, ",kind=\"read\"} %" PRIu64 "\n", SUM_POOLS(cfg->hosts[i].index, pub_reads));
        host_labels(o, "manx_host_statements_total", &views[i]);
        put(o, ",kind=\"write\"} %" PRIu64 "\n", SUM_POOLS(cfg->hosts[i].index, pub_writes));
    }
    help(o, "manx_host_errors_total", "counter", "ERR answers of the host to statements of clients");
    for (size_t i = 0; i < cfg->n_hosts; i++) {
        host_labels(o, "manx_host_errors_total", &views[i]);
        put(o, "} %" PRIu64 "\n", SUM_POOLS(cfg->hosts[i].index, pub_errors));
    }
    help(o, "manx_host_connect_failures_total", "counter", "backend connections of the pools that failed to connect or log in");
    for (size_t i = 0; i < cfg->n_hosts; i++) {
        host_labels(o, "manx_host_connect_failures_total", &views[i]);
        put(o, "} %" PRIu64 "\n", SUM_POOLS(cfg->hosts[i].index, pub_connect_failures));
    }
    help(o, "manx_host_heartbeat_rtt_seconds", "gauge", "duration of the host's last heartbeat");
    for (size_t i = 0; i < cfg->n_hosts; i++) {
        host_labels(o, "manx_host_heartbeat_rtt_seconds", &views[i]);
        put(o, "} %.6f\n", snaps[i].rtt_ms / 1000.0);
    }
    help(o, "manx_host_heartbeats_total", "counter", "heartbeats run against the host");
    for (size_t i = 0; i < cfg->n_hosts; i++) {
        host_labels(o, "manx_host_heartbeats_total", &views[i]);
        put(o, "} %" PRIu64 "\n", snaps[i].beats);
    }
    help(o, "manx_host_heartbeat_failures_total", "counter", "heartbeats of the host that failed");
    for (size_t i = 0; i < cfg->n_hosts; i++) {
        host_labels(o, "manx_host_heartbeat_failures_total", &views[i]);
        put(o, "} %" PRIu64 "\n", snaps[i].failures);
    }
    help(o, "manx_host_replication_running", "gauge", "replicas only: 1 when both replication threads run, 0 when stopped or broken");
    for (size_t i = 0; i < cfg->n_hosts; i++) {
        if (snaps[i].repl < 0)
            continue;
        host_labels(o, "manx_host_replication_running", &views[i]);
        put(o, "} %d\n", snaps[i].repl == 1);
    }
    help(o, "manx_host_replication_lag_seconds", "gauge", "replicas only: Seconds_Behind_Master at the last heartbeat (absent while unknown)");
    for (size_t i = 0; i < cfg->n_hosts; i++) {
        if (snaps[i].repl != 1 || snaps[i].lag < 0)
            continue;
        host_labels(o, "manx_host_replication_lag_seconds", &views[i]);
        put(o, "} %d\n", snaps[i].lag);
    }
    free(snaps);
}

static void metrics_datahosts(out_t *o, const mx_config_t *cfg)
{
    help(o, "manx_datahost_active_writer_index", "gauge", "index in write_hosts of the writeHost that takes writes");
    for (size_t d = 0; d < cfg->n_datahosts; d++) {
        const mx_datahost_t *dh = &cfg->datahosts[d];
        int a = mx_health_writer(&mx_proc.health, (size_t)dh->index);
        put(o, "manx_datahost_active_writer_index{datahost=\"");
        put_escaped(o, dh->name, false);
        put(o, "\",writer=\"");
        put_escaped(o, dh->write_hosts[a]->name, false);
        put(o, "\"} %d\n", a);
    }
    help(o, "manx_datahost_writable", "gauge", "1 when the active writeHost is up (writes can succeed), else 0");
    for (size_t d = 0; d < cfg->n_datahosts; d++) {
        put(o, "manx_datahost_writable{datahost=\"");
        put_escaped(o, cfg->datahosts[d].name, false);
        put(o, "\"} %d\n", writer_up(&cfg->datahosts[d]));
    }
    help(o, "manx_datahost_switchovers_total", "counter", "times writes moved to another writeHost (heartbeat, console or dnindex.properties) since start-up");
    for (size_t d = 0; d < cfg->n_datahosts; d++) {
        mx_datahost_snapshot_t s;
        mx_health_datahost_snapshot(&mx_proc.health, (size_t)cfg->datahosts[d].index, &s);
        put(o, "manx_datahost_switchovers_total{datahost=\"");
        put_escaped(o, cfg->datahosts[d].name, false);
        put(o, "\"} %" PRIu64 "\n", s.switches);
    }
}

/* `name{datahost="..."} ` for a dataHost's coordination series. */
static void dh_series(out_t *o, const char *name, const mx_datahost_t *dh, const char *more)
{
    put(o, "%s{datahost=\"", name);
    put_escaped(o, dh->name, false);
    put(o, "\"%s} ", more);
}

static void metrics_coordination(out_t *o, const mx_config_t *cfg)
{
    mx_coord_t *c = mx_health_coord(&mx_proc.health);
    mx_coord_snapshot_t *snaps = calloc(cfg->n_datahosts ? cfg->n_datahosts : 1, sizeof(*snaps));
    if (!snaps) {
        o->failed = true;
        return;
    }
    for (size_t d = 0; d < cfg->n_datahosts; d++)
        mx_coord_snapshot(c, &cfg->datahosts[d], &snaps[d]);
    /* Instance-wide: any dataHost's snapshot carries them (none: connected, never lost). */
    bool connected = cfg->n_datahosts ? snaps[0].connected || snaps[0].mode == MX_COORD_NONE : true;
    bool lost = cfg->n_datahosts && snaps[0].state && strcmp(snaps[0].state, "LOST") == 0;
    help(o, "manx_coordination_connected", "gauge", "1 when the coordinator answers (etcd reachable; always 1 for coordination = none and backend_locks)");
    put(o, "manx_coordination_connected %d\n", connected);
    help(o, "manx_coordination_lost", "gauge", "1 while this instance has lost its coordinator (it keeps the last agreed writers and never switches), else 0");
    put(o, "manx_coordination_lost %d\n", lost);
    help(o, "manx_coordination_decider", "gauge", "1 when this instance decides the dataHost's switch-overs (always 1 for coordination = none)");
    for (size_t d = 0; d < cfg->n_datahosts; d++) {
        dh_series(o, "manx_coordination_decider", &cfg->datahosts[d], "");
        put(o, "%d\n", snaps[d].i_decide);
    }
    help(o, "manx_coordination_writer_revision", "gauge", "revision of the agreed writer (etcd: the writer key's mod_revision; backend_locks: the epoch; 0: none)");
    for (size_t d = 0; d < cfg->n_datahosts; d++) {
        dh_series(o, "manx_coordination_writer_revision", &cfg->datahosts[d], "");
        put(o, "%" PRId64 "\n", snaps[d].writer_rev);
    }
    help(o, "manx_coordination_proposals_total", "counter", "switch-overs this instance proposed, by result (won: recorded and applied; lost: refused, or not recorded)");
    for (size_t d = 0; d < cfg->n_datahosts; d++) {
        dh_series(o, "manx_coordination_proposals_total", &cfg->datahosts[d], ",result=\"won\"");
        put(o, "%" PRIu64 "\n", snaps[d].won);
        dh_series(o, "manx_coordination_proposals_total", &cfg->datahosts[d], ",result=\"lost\"");
        put(o, "%" PRIu64 "\n", snaps[d].lost);
    }
    help(o, "manx_fence_actions_total", "counter", "SET GLOBAL read_only statements of fencing (fence = read_only), by result");
    for (size_t d = 0; d < cfg->n_datahosts; d++) {
        dh_series(o, "manx_fence_actions_total", &cfg->datahosts[d], ",result=\"ok\"");
        put(o, "%" PRIu64 "\n", snaps[d].fence_ok);
        dh_series(o, "manx_fence_actions_total", &cfg->datahosts[d], ",result=\"error\"");
        put(o, "%" PRIu64 "\n", snaps[d].fence_err);
    }
    free(snaps);
}

static void metrics_statements(out_t *o)
{
    static const char *const classes[] = { "read", "session", "write", "other" };
    help(o, "manx_statements_total", "counter", "commands forwarded to a backend, by class (the classifier's READ, SESSION, WRITE; other: commands without SQL text to classify) and target (writer, or a reader chosen by balance)");
    for (int c = 0; c < 4; c++)
        for (int t = 0; t < 2; t++)
            put(o, "manx_statements_total{class=\"%s\",target=\"%s\"} %" PRIu64 "\n", classes[c],
                t ? "reader" : "writer", sum_v(MX_ST_STMT + c * 2 + t));
    help(o, "manx_statement_duration_seconds", "histogram", "time from forwarding a command to the end of its response (commands that get one), as the console times it");
    uint64_t cum = 0;
    for (int b = 0; b <= MX_LAT_BUCKETS; b++) {
        cum += sum_v(MX_ST_LAT + b);
        if (b < MX_LAT_BUCKETS)
            put(o, "manx_statement_duration_seconds_bucket{le=\"%g\"} %" PRIu64 "\n", mx_lat_bound_us[b] / 1e6, cum);
        else
            put(o, "manx_statement_duration_seconds_bucket{le=\"+Inf\"} %" PRIu64 "\n", cum);
    }
    put(o, "manx_statement_duration_seconds_sum %.6f\n", sum_v(MX_ST_LAT_SUM_US) / 1e6);
    put(o, "manx_statement_duration_seconds_count %" PRIu64 "\n", cum);
}

/* Errors by code over all workers: codes are merged across the workers'
 * tables (each worker numbers its slots in its own order). */
typedef struct errsum_s {
    uint16_t code;               /* 0: the "other" slot */
    uint64_t n[2];
} errsum_t;

static size_t sum_errors(errsum_t *out, size_t max)
{
    size_t n = 0;
    for (int w = 0; w < mx_proc.n_workers; w++) {
        mx_wstats_t *s = &mx_proc.workers[w].wstats;
        for (int i = 0; i < MX_ERR_SLOTS; i++) {
            uint16_t code = atomic_load_explicit(&s->pub_err_code[i], memory_order_acquire);
            if (i == MX_ERR_SLOTS - 1)
                code = 0;
            else if (code == 0)
                continue;
            uint64_t a = atomic_load_explicit(&s->pub_err_n[i][0], memory_order_relaxed);
            uint64_t b = atomic_load_explicit(&s->pub_err_n[i][1], memory_order_relaxed);
            if (a + b == 0)
                continue;
            size_t k = 0;
            while (k < n && out[k].code != code)
                k++;
            if (k == n) {
                if (n == max)
                    continue;
                out[n++] = (errsum_t){ code, { 0, 0 } };
            }
            out[k].n[0] += a;
            out[k].n[1] += b;
        }
    }
    return n;
}

static void metrics_errors(out_t *o)
{
    errsum_t errs[MX_ERR_SLOTS * 4];
    size_t n = sum_errors(errs, sizeof(errs) / sizeof(errs[0]));
    help(o, "manx_errors_total", "counter", "ERR packets sent to clients, by MySQL error code (\"other\" beyond the 63 codes a worker tracks) and source (backend: the server's answer, manx: manx's own)");
    for (size_t i = 0; i < n; i++)
        for (int f = 0; f < 2; f++) {
            if (!errs[i].n[f])
                continue;
            if (errs[i].code)
                put(o, "manx_errors_total{code=\"%u\",source=\"%s\"} %" PRIu64 "\n", errs[i].code,
                    f ? "manx" : "backend", errs[i].n[f]);
            else
                put(o, "manx_errors_total{code=\"other\",source=\"%s\"} %" PRIu64 "\n", f ? "manx" : "backend",
                    errs[i].n[f]);
        }
}

static uint64_t unix_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static double uptime_s(void)
{
    return (double)(uv_hrtime() / 1000000 - mx_proc.started_ms) / 1000.0;
}

static void render_metrics(out_t *o)
{
    const mx_config_t *cfg = mx_proc.cur;
    host_view_t *views = calloc(cfg->n_hosts ? cfg->n_hosts : 1, sizeof(*views));
    if (!views) {
        o->failed = true;
        return;
    }
    for (size_t i = 0; i < cfg->n_hosts; i++)
        views[i] = host_view(cfg, &cfg->hosts[i]);
    help(o, "manx_build_info", "gauge", "always 1; the version label says which manx runs");
    put(o, "manx_build_info{version=\"%s\"} 1\n", MX_VERSION);
    help(o, "manx_start_time_seconds", "gauge", "when manx started, seconds since the epoch");
    put(o, "manx_start_time_seconds %.3f\n", (double)unix_ms() / 1000.0 - uptime_s());
    help(o, "manx_config_generation", "gauge", "configuration generation in use (1 at start-up, +1 per accepted reload)");
    put(o, "manx_config_generation %u\n", cfg->generation);
    help(o, "manx_client_connections", "gauge", "client sessions open now (console sessions apart)");
    put(o, "manx_client_connections %d\n", atomic_load(&mx_proc.n_clients));
    help(o, "manx_client_connections_max", "gauge", "max_connections");
    put(o, "manx_client_connections_max %d\n", cfg->max_connections);
    help(o, "manx_client_connections_accepted_total", "counter", "client connections accepted (console sessions apart)");
    put(o, "manx_client_connections_accepted_total %" PRIu64 "\n", sum_v(MX_ST_ACCEPTED));
    help(o, "manx_offline", "gauge", "1 after the console's `offline` (new client connections refused, open sessions go on; check_manx fails), 0 when online");
    put(o, "manx_offline %d\n", atomic_load_explicit(&mx_proc.offline, memory_order_relaxed) ? 1 : 0);
    help(o, "manx_admin_sessions", "gauge", "admin console sessions open now");
    put(o, "manx_admin_sessions %d\n", atomic_load(&mx_proc.n_admin));
    help(o, "manx_received_bytes_total", "counter", "bytes read from sockets (TLS records included), by side (client: client and console sessions, as the console counts them; backend)");
    put(o, "manx_received_bytes_total{side=\"client\"} %" PRIu64 "\n", sum_bytes(MX_SIDE_CLIENT, 0));
    put(o, "manx_received_bytes_total{side=\"backend\"} %" PRIu64 "\n", sum_bytes(MX_SIDE_BACKEND, 0));
    help(o, "manx_sent_bytes_total", "counter", "bytes written to sockets (TLS records included), by side (client: client and console sessions, as the console counts them; backend)");
    put(o, "manx_sent_bytes_total{side=\"client\"} %" PRIu64 "\n", sum_bytes(MX_SIDE_CLIENT, 1));
    put(o, "manx_sent_bytes_total{side=\"backend\"} %" PRIu64 "\n", sum_bytes(MX_SIDE_BACKEND, 1));
    metrics_statements(o);
    metrics_errors(o);
    metrics_hosts(o, cfg, views);
    metrics_datahosts(o, cfg);
    metrics_coordination(o, cfg);
    free(views);
}

/* ---- GET /status.json ------------------------------------------------------------- */

static void json_str(out_t *o, const char *s)
{
    put(o, "\"");
    put_escaped(o, s, true);
    put(o, "\"");
}

static void render_status(mx_metrics_t *m, out_t *o)
{
    const mx_config_t *cfg = mx_proc.cur;
    put(o, "{\"version\":\"%s\",\"uptime_s\":%.0f,\"now_ms\":%" PRIu64 ",\"clients\":%d,\"hosts\":[", MX_VERSION,
        uptime_s(), unix_ms(), atomic_load(&mx_proc.n_clients));
    for (size_t i = 0; i < cfg->n_hosts; i++) {
        const mx_host_t *h = &cfg->hosts[i];
        host_view_t v = host_view(cfg, h);
        mx_host_snapshot_t s;
        mx_health_snapshot(&mx_proc.health, h->index, &s);
        put(o, "%s{\"name\":", i ? "," : "");
        json_str(o, h->name);
        put(o, ",\"address\":");
        json_str(o, h->address);
        put(o, ",\"datahost\":");
        json_str(o, v.dh ? v.dh->name : "");
        put(o, ",\"role\":\"%s\",\"state\":\"%s\",\"rtt_ms\":%.1f,\"active\":%" PRIu64 ",\"idle\":%" PRIu64
               ",\"waiting\":%" PRIu64 ",\"lag_s\":%d,\"replication\":%d,\"last_error\":",
            v.role, mx_host_status_name(s.status), s.rtt_ms, SUM_POOLS(h->index, pub_busy),
            SUM_POOLS(h->index, pub_idle), SUM_POOLS(h->index, pub_waiting), s.repl == 1 ? s.lag : -1, s.repl);
        json_str(o, s.status == MX_HOST_UP ? "" : s.last_error);
        put(o, "}");
    }
    put(o, "],\"datahosts\":[");
    for (size_t d = 0; d < cfg->n_datahosts; d++) {
        const mx_datahost_t *dh = &cfg->datahosts[d];
        mx_datahost_snapshot_t s;
        mx_health_datahost_snapshot(&mx_proc.health, (size_t)dh->index, &s);
        put(o, "%s{\"name\":", d ? "," : "");
        json_str(o, dh->name);
        put(o, ",\"active_index\":%d,\"writer\":", s.active);
        json_str(o, dh->write_hosts[s.active]->name);
        put(o, ",\"writable\":%s,\"switchovers\":%" PRIu64 "}", writer_up(dh) ? "true" : "false", s.switches);
    }
    put(o, "],\"switchovers\":[");
    mx_switch_event_t ev[MX_HEALTH_SWITCH_LOG];
    size_t n = mx_health_switch_log(&mx_proc.health, ev, MX_HEALTH_SWITCH_LOG);
    for (size_t i = 0; i < n; i++) {
        put(o, "%s{\"unix_ms\":%" PRIu64 ",\"datahost\":", i ? "," : "", ev[i].unix_ms);
        json_str(o, ev[i].datahost);
        put(o, ",\"from\":");
        json_str(o, ev[i].from);
        put(o, ",\"to\":");
        json_str(o, ev[i].to);
        put(o, ",\"why\":\"%s\"}", ev[i].why);
    }
    /* The chart: per second between consecutive samples, oldest first. */
    put(o, "],\"samples\":[");
    uint64_t have = m->n_samples < N_SAMPLES ? m->n_samples : N_SAMPLES;
    for (uint64_t k = 1; k < have; k++) {
        const sample_t *a = &m->samples[(m->n_samples - have + k - 1) % N_SAMPLES];
        const sample_t *b = &m->samples[(m->n_samples - have + k) % N_SAMPLES];
        double dt = b->unix_ms > a->unix_ms ? (double)(b->unix_ms - a->unix_ms) / 1000.0 : 1.0;
        uint64_t ds = b->stmts - a->stmts, dt_n = b->timed - a->timed;
        double avg_ms = dt_n ? (double)(b->lat_us - a->lat_us) / 1000.0 / (double)dt_n : 0.0;
        put(o, "%s[%" PRIu64 ",%.2f,%.3f,%.2f]", k > 1 ? "," : "", b->unix_ms, (double)ds / dt, avg_ms,
            (double)(b->errors - a->errors) / dt);
    }
    put(o, "]}\n");
}

static void on_sample(uv_timer_t *t)
{
    mx_metrics_t *m = t->data;
    sample_t *s = &m->samples[m->n_samples++ % N_SAMPLES];
    s->unix_ms = unix_ms();
    s->stmts = 0;
    for (int i = 0; i < 8; i++)
        s->stmts += sum_v(MX_ST_STMT + i);
    s->timed = 0;
    for (int i = 0; i <= MX_LAT_BUCKETS; i++)
        s->timed += sum_v(MX_ST_LAT + i);
    s->lat_us = sum_v(MX_ST_LAT_SUM_US);
    errsum_t errs[MX_ERR_SLOTS * 4];
    size_t n = sum_errors(errs, sizeof(errs) / sizeof(errs[0]));
    s->errors = 0;
    for (size_t i = 0; i < n; i++)
        s->errors += errs[i].n[0] + errs[i].n[1];
}

/* ---- HTTP -------------------------------------------------------------------------- */

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, const char *type, char *body,
                             size_t len, bool owned)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(len, body,
                                                              owned ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (!r) {
        if (owned)
            free(body);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET");
    if (strncmp(type, "text/html", 9) == 0)
        /* The page is self-contained: it may only run its own inline
         * script and style and fetch from this origin. */
        MHD_add_response_header(r, "Content-Security-Policy",
                                "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
                                "connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; "
                                "frame-ancestors 'none'");
    enum MHD_Result rc = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return rc;
}

static enum MHD_Result reply_text(struct MHD_Connection *conn, unsigned status, const char *text)
{
    return reply(conn, status, "text/plain; charset=utf-8", (char *)text, strlen(text), false);
}

static enum MHD_Result reply_out(struct MHD_Connection *conn, const char *type, out_t *o)
{
    if (o->failed || !o->p) {
        free(o->p);
        return reply_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
    }
    return reply(conn, MHD_HTTP_OK, type, o->p, o->len, true);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **req_cls)
{
    mx_metrics_t *m = cls;
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0)
        return reply_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET\n");
    /* A GET has no body; one that announces one is not from a browser
     * or a scraper.  Answering before reading it makes MHD close the
     * connection after the answer. */
    if (*upload_data_size != 0 ||
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH) ||
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING))
        return reply_text(conn, MHD_HTTP_BAD_REQUEST, "a GET has no body\n");
    out_t o = { 0 };
    if (strcmp(url, "/metrics") == 0) {
        render_metrics(&o);
        return reply_out(conn, "text/plain; version=0.0.4; charset=utf-8", &o);
    }
    if (strcmp(url, "/status.json") == 0) {
        render_status(m, &o);
        return reply_out(conn, "application/json", &o);
    }
    if (strcmp(url, "/") == 0)
        return reply(conn, MHD_HTTP_OK, "text/html; charset=utf-8", (char *)mx_status_html,
                     sizeof(mx_status_html) - 1, false);
    return reply_text(conn, MHD_HTTP_NOT_FOUND, "not found: try /metrics, / or /status.json\n");
}

/* MHD's complaints (malformed requests, limits reached) are the
 * client's problem, not the operator's: debug level. */
static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    if (mx_log_level < MX_LOG_DEBUG)
        return;
    char line[256];
    vsnprintf(line, sizeof(line), fmt, ap);
    line[strcspn(line, "\n")] = 0;
    mx_debug("metrics: %s", line);
}

static void run_mhd(mx_metrics_t *m);

static void on_timer(uv_timer_t *t)
{
    run_mhd(t->data);
}

static void on_poll(uv_poll_t *p, int status, int events)
{
    run_mhd(p->data);
}

/* Let MHD do what its descriptors are ready for, then sleep until they
 * are ready again or its next timeout (0: it has buffered work left), but
 * never more than MHD_IDLE_MS: at the connection limit MHD takes its
 * listening socket out of its epoll set and puts it back only in a later
 * MHD_run, which nothing else would trigger once the connections that
 * filled the limit are gone. */
#define MHD_IDLE_MS 500
static void run_mhd(mx_metrics_t *m)
{
    MHD_run(m->d);
    MHD_UNSIGNED_LONG_LONG ms;
    if (MHD_get_timeout(m->d, &ms) != MHD_YES || ms > MHD_IDLE_MS)
        ms = MHD_IDLE_MS;
    uv_timer_start(&m->timer, on_timer, (uint64_t)ms, 0);
}

int mx_metrics_start(uv_loop_t *loop, const mx_config_t *cfg)
{
    if (!cfg->metrics_listen[0])
        return 0;
    int fd = mx_listen_socket(cfg->metrics_listen);
    if (fd < 0)
        return fd;
    mx_metrics_t *m = calloc(1, sizeof(*m));
    if (!m) {
        close(fd);
        return -ENOMEM;
    }
    /* No thread of MHD's own, epoll inside: the main loop polls MHD's
     * epoll descriptor and calls MHD_run; everything runs on this thread.
     * MHD closes the listening socket at MHD_stop_daemon. */
    m->d = MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_ERROR_LOG, 0, NULL, NULL, on_request, m,
                            MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
                            MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
                            MHD_OPTION_CONNECTION_LIMIT, (unsigned int)MAX_HTTP_CONNS,
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)HTTP_TIMEOUT_S,
                            MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_MEM_LIMIT,
                            MHD_OPTION_END);
    if (!m->d) {
        close(fd);
        free(m);
        return -EINVAL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(m->d, MHD_DAEMON_INFO_EPOLL_FD);
    int rc = info ? uv_poll_init(loop, &m->poll, info->epoll_fd) : -EINVAL;
    if (rc < 0) {
        MHD_stop_daemon(m->d);
        free(m);
        return rc;
    }
    m->poll.data = m;
    uv_timer_init(loop, &m->timer);
    m->timer.data = m;
    uv_timer_init(loop, &m->sampler);
    m->sampler.data = m;
    uv_poll_start(&m->poll, UV_READABLE, on_poll);
    uv_timer_start(&m->sampler, on_sample, 0, 1000);
    mx_proc.metrics = m;
    run_mhd(m);
    return 0;
}

static void on_closed(uv_handle_t *h)
{
    mx_metrics_t *m = h->data;
    if (--m->n_closing == 0) {
        MHD_stop_daemon(m->d);
        free(m);
    }
}

void mx_metrics_stop(void)
{
    mx_metrics_t *m = mx_proc.metrics;
    if (!m)
        return;
    mx_proc.metrics = NULL;
    /* The poll handle watches MHD's epoll descriptor: MHD closes it only
     * once libuv has let go of it. */
    m->n_closing = 3;
    uv_close((uv_handle_t *)&m->poll, on_closed);
    uv_close((uv_handle_t *)&m->timer, on_closed);
    uv_close((uv_handle_t *)&m->sampler, on_closed);
}
