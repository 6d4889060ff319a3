/* The admin console: a MySQL-protocol endpoint on admin_listen (Mycat's
 * :9066) where operators run `show @@...` commands with any MySQL client.
 * One table of commands; each builds a result set from typed columns.
 * Numbers come from what workers and the heartbeat publish (atomics and a
 * snapshot under the heartbeat's lock), never from another thread's
 * private state. */
#include "admin.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "client.h"
#include "log.h"
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

/* ---- commands ----------------------------------------------------------------- */

static bool show_help(mx_client_t *cl, const char *arg);

static bool show_version(mx_client_t *cl, const char *arg)
{
    static const char *const cols[] = { "VERSION" };
    table_t t;
    table_init(&t, cols, 1);
    table_row(&t, "manx %s", MX_VERSION);
    return table_send(cl, &t);
}

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

static const char *host_role(const mx_config_t *cfg, const mx_host_t *h, const char **dh_name)
{
    for (size_t d = 0; d < cfg->n_datahosts; d++) {
        const mx_datahost_t *dh = &cfg->datahosts[d];
        int active = mx_health_writer(&mx_proc.health, (size_t)dh->index);
        for (size_t w = 0; w < dh->n_write_hosts; w++) {
            if (dh->write_hosts[w] == h) {
                *dh_name = dh->name;
                return (int)w == active ? "W (active)" : "W (standby)";
            }
            for (size_t r = 0; r < dh->write_hosts[w]->n_read_hosts; r++)
                if (dh->write_hosts[w]->read_hosts[r] == h) {
                    *dh_name = dh->name;
                    return "R";
                }
        }
    }
    *dh_name = "";
    return "-";
}

static bool show_datasource(mx_client_t *cl, const char *arg)
{
    static const char *const cols[] = { "NAME", "DATAHOST", "ADDRESS", "TYPE", "STATUS", "ACTIVE", "IDLE",
                                        "SIZE", "WAITING", "READS", "WRITES", "ERRORS" };
    const mx_config_t *cfg = cl->cfg;
    table_t t;
    table_init(&t, cols, sizeof(cols) / sizeof(cols[0]));
    for (size_t i = 0; i < cfg->n_hosts; i++) {
        const mx_host_t *h = &cfg->hosts[i];
        const char *dh;
        const char *role = host_role(cfg, h, &dh);
        if (arg[0] && strcmp(arg, dh) != 0)
            continue;
        table_row(&t, "%s\t%s\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64, h->name, dh,
                  h->address, role, mx_host_status_name(mx_health_status(&mx_proc.health, h->index)),
                  SUM_POOLS(h->index, pub_busy, int), SUM_POOLS(h->index, pub_idle, int),
                  SUM_POOLS(h->index, pub_total, int), SUM_POOLS(h->index, pub_waiting, int),
                  SUM_POOLS(h->index, pub_reads, uint64_t), SUM_POOLS(h->index, pub_writes, uint64_t),
                  SUM_POOLS(h->index, pub_errors, uint64_t));
    }
    return table_send(cl, &t);
}

static bool show_heartbeat(mx_client_t *cl, const char *arg)
{
    static const char *const cols[] = { "NAME", "ADDRESS", "STATUS", "SINCE_S", "FAILS", "LAST_FAILURE",
                                        "LAST_ERROR", "RTT_MS", "REPLICATION", "LAG_S", "BEATS", "FAILURES" };
    const mx_config_t *cfg = cl->cfg;
    table_t t;
    table_init(&t, cols, sizeof(cols) / sizeof(cols[0]));
    for (size_t i = 0; i < cfg->n_hosts; i++) {
        mx_host_snapshot_t s;
        mx_health_snapshot(&mx_proc.health, cfg->hosts[i].index, &s);
        const char *repl = s.repl == 1 ? "running" : s.repl == 0 ? "STOPPED" : "-";
        char lag[16] = "-";
        if (s.repl == 1 && s.lag >= 0)
            snprintf(lag, sizeof(lag), "%d", s.lag);
        table_row(&t, "%s\t%s\t%s%s\t%.1f\t%d\t%s\t%s\t%.1f\t%s\t%s\t%" PRIu64 "\t%" PRIu64, cfg->hosts[i].name,
                  cfg->hosts[i].address, mx_host_status_name(s.status), s.suspect ? " (suspect)" : "",
                  s.since_ms / 1000.0, s.fails, s.last_fail ? mx_fail_kind_name(s.last_fail) : "-",
                  s.last_error[0] ? s.last_error : "-", s.rtt_ms, repl, lag, s.beats, s.failures);
    }
    return table_send(cl, &t);
}

/* PERSISTED says whether a restart would keep writes where they go now:
 * "yes" when dnindex.properties holds the active index, otherwise what it
 * holds and why the last write failed. */
static bool show_datahost(mx_client_t *cl, const char *arg)
{
    static const char *const cols[] = { "NAME", "BALANCE", "WRITE_TYPE", "SWITCH_TYPE", "ACTIVE_INDEX",
                                        "ACTIVE_WRITEHOST", "WRITE_HOSTS", "CONSISTENCY", "PERSISTED" };
    const mx_config_t *cfg = cl->cfg;
    table_t t;
    table_init(&t, cols, sizeof(cols) / sizeof(cols[0]));
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

static bool show_connection(mx_client_t *cl, const char *arg)
{
    static const char *const cols[] = { "WORKER", "CLIENTS" };
    table_t t;
    table_init(&t, cols, 2);
    for (int w = 0; w < mx_proc.n_workers; w++)
        table_row(&t, "%d\t%u", w, atomic_load(&mx_proc.workers[w].pub_clients));
    table_row(&t, "all\t%d", atomic_load(&mx_proc.n_clients));
    return table_send(cl, &t);
}

static bool show_server(mx_client_t *cl, const char *arg)
{
    static const char *const cols[] = { "UPTIME_S", "WORKERS", "CLIENTS", "MAX_CONNECTIONS", "VERSION" };
    table_t t;
    table_init(&t, cols, sizeof(cols) / sizeof(cols[0]));
    table_row(&t, "%.0f\t%d\t%d\t%d\tmanx %s", (uv_hrtime() / 1000000 - mx_proc.started_ms) / 1000.0,
              mx_proc.n_workers, atomic_load(&mx_proc.n_clients), cl->cfg->max_connections, MX_VERSION);
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

static const struct {
    const char *command;         /* lower case, as typed after spaces are squeezed */
    bool (*fn)(mx_client_t *cl, const char *arg);
    const char *help;
} commands[] = {
    { "show @@help", show_help, "this list" },
    { "show @@version", show_version, "manx's version" },
    { "show @@server", show_server, "uptime, workers, client connections" },
    { "show @@datasource", show_datasource, "every host: role, heartbeat status, pooled connections, reads, writes, errors (optionally: show @@datasource <datahost>)" },
    { "show @@heartbeat", show_heartbeat, "every host: status, failures, last error, round trip, replication, lag" },
    { "show @@datahost", show_datahost, "every dataHost: balance, write_type, switch_type, active writeHost, whether dnindex.properties holds it (PERSISTED)" },
    { "show @@database", show_database, "the logical schemas of the configuration" },
    { "show @@connection", show_connection, "client connections per worker" },
    { "show @@sysparam", show_sysparam, "configuration parameters (passwords hidden)" },
    { "switch @@datasource", switch_datasource, "switch @@datasource <datahost>:<index>: move writes by hand (persisted in dnindex.properties)" },
    { "reload @@dnindex", reload_dnindex, "re-read dnindex.properties (as SIGHUP)" },
};

static bool show_help(mx_client_t *cl, const char *arg)
{
    static const char *const cols[] = { "STATEMENT", "DESCRIPTION" };
    table_t t;
    table_init(&t, cols, 2);
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
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
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        size_t l = strlen(commands[i].command);
        if (strncmp(lower, commands[i].command, l) != 0 || (lower[l] != 0 && lower[l] != ' '))
            continue;
        const char *arg = text[l] ? text + l + 1 : "";
        mx_debug("admin console %s: %s", cl->peer, text);
        return commands[i].fn(cl, arg);
    }
    /* Clients probe the server at connect (JDBC, GUI tools): answer the
     * harmless ones instead of failing the login. */
    if (strncmp(lower, "select @@version_comment", 24) == 0 || strcmp(lower, "select 1") == 0 ||
        strncmp(lower, "set ", 4) == 0)
        return strncmp(lower, "set ", 4) == 0 ? mx_client_send_ok(cl) : show_version(cl, "");
    return mx_client_send_error(cl, 1064, "42000", "manx admin console: unknown statement '%s' (try: show @@help)",
                                text);
}
