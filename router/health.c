/* Heartbeat and switch-over.  One thread runs a libuv loop; every host has
 * a persistent heartbeat connection driven through MariaDB Connector/C's
 * non-blocking API on a uv_poll handle, a timer for the next beat and one
 * for the beat's timeout.  A beat runs the dataHost's heartbeat SQL and
 * SHOW SLAVE STATUS.  After heartbeat_retries failures in a row a host is
 * DOWN; when it is the active writeHost, writes move to the next writeHost
 * that is up and has been for rejoin_delay (preferring healthy replicas)
 * and dnindex.properties is rewritten atomically.  When the only candidate
 * is still inside its rejoin_delay, a timer makes the choice again when the
 * delay ends.  Nothing switches back on its own. */
#include "health.h"

#include <errno.h>
#include <fcntl.h>
#include <mysql.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "coord.h"
#include "dnindex.h"

enum { PH_IDLE, PH_CONNECT, PH_QUERY, PH_STORE, PH_REPL_QUERY, PH_REPL_STORE, PH_DB_QUERY, PH_DB_STORE,
       PH_X_QUERY, PH_X_STORE };
enum { LOG_ERROR = 0, LOG_WARNING = 1, LOG_INFO = 2, LOG_DEBUG = 3 };
enum { PERSIST_RETRY_MS = 5000 };

typedef struct mx_heartbeat_s hb_t;

/* Per host slot: what only the heartbeat thread touches (the counters the
 * console shows are read under h->lock). */
typedef struct mx_hhost_s {
    mx_host_state_t *st;         /* the shared part, &pub->hosts[slot] */
    const mx_host_t *host;
    const mx_datahost_t *dh;
    hb_t *h;
    void *my;                    /* MYSQL*, NULL when not connected */
    uv_poll_t *poll;             /* on my's socket, heap (closed asynchronously) */
    uv_timer_t next;             /* next beat */
    uv_timer_t tmo;              /* beat timeout */
    void *res;                   /* MYSQL_RES* of the phase in flight */
    void *ret_my;                /* MYSQL* result of connect */
    int ret_int;
    int phase;                   /* beat phase, 0 = idle */
    bool extended;               /* this beat's timeout was extended once (late timer) */
    int fails, oks;              /* consecutive */
    int db_due;                  /* good beats until the next SHOW DATABASES (on an active writeHost) */
    struct {                     /* statements coordination queued (mx__health_sql), run after a beat */
        char *sql;
        mx_health_sql_cb cb;
        void *arg;
    } xq[MX_HEALTH_SQL_QUEUE];
    int nx;
    bool x_asked;                /* coordination saw this beat (mx_coord_beat) */
    bool fresh;                  /* this beat opened the connection */
    struct mx_dbset_s *dbs;      /* its last SHOW DATABASES, NULL none; replaced under h->db_lock */
    char last_error[200];
    uint64_t beat_start_ms, first_fail_ms, up_since_ms, changed_ms;
    uint64_t beats, failures;
    double rtt_ms;
} mx_hhost_t;

struct mx_heartbeat_s {
    mx_health_t *pub;            /* what others read */
    mx_config_t *cfg;            /* the generation the heartbeat uses (a reference); its thread's own */
    _Atomic(mx_config_t *) next_cfg; /* a reloaded generation to adopt (a reference), or NULL */
    mx_health_log_fn log;
    mx_hhost_t *hosts;           /* MX_MAX_HOST_SLOTS, by host slot (mx_host_t.index) */
    _Atomic int *write_index;    /* pub->write_index */
    char path[1100];             /* state_dir/dnindex.properties */
    uv_loop_t loop;
    uv_thread_t thread;
    uv_async_t async;            /* kick or stop */
    uv_timer_t rejoin;           /* a writeHost's rejoin_delay ends while its dataHost has no writer */
    _Atomic bool stop;
    _Atomic bool reload;         /* re-read dnindex.properties (SIGHUP) */
    _Atomic int *switch_to;      /* per dataHost slot: console switch request, writeHost index + 1, 0 none */
    uv_timer_t persist_retry;    /* writes dnindex.properties again after a failed write */
    int *persisted;              /* per dataHost slot: the index a restart would read from dnindex.properties (lock) */
    char persist_error[200];     /* why the last write of dnindex.properties failed, "" after a good one (lock) */
    uint64_t *switches;          /* per dataHost slot: switch-overs since start-up (lock) */
    uint32_t *fallback_said;     /* per dataHost slot: the writer's down_gen when "broken replication,
                                  * switching anyway" was logged (coordination asks again and again) */
    mx_switch_event_t switch_log[MX_HEALTH_SWITCH_LOG]; /* ring of the last switch-overs (lock) */
    uint64_t n_switch_log;       /* switch-overs ever logged; the next goes to [n % MX_HEALTH_SWITCH_LOG] (lock) */
    uv_mutex_t lock;             /* guards the thread-owned fields snapshots read */
    uv_rwlock_t db_lock;         /* guards hosts[].dbs: written by the heartbeat, read by workers */
    _Atomic bool dbs_known;      /* some host's database list has arrived */
    mx_coord_t *coord;           /* how writes move: alone, or agreed with other instances */
    bool started;
};

static void run(mx_hhost_t *hh, int ready);
static void maybe_switch(hb_t *h, const mx_datahost_t *dh, size_t di); /* di: dh->index */
static void recheck_writers(hb_t *h);
static void x_done(mx_hhost_t *hh, void *res, unsigned int err, const char *msg);
static void x_flush(mx_hhost_t *hh);

const char *mx_fail_kind_name(int kind)
{
    switch (kind) {
    case MX_FAIL_REFUSED: return "connection refused";
    case MX_FAIL_TIMEOUT: return "timeout";
    case MX_FAIL_AUTH: return "authentication failed";
    case MX_FAIL_SQL: return "SQL error";
    default: return "none";
    }
}

const char *mx_host_status_name(int status)
{
    switch (status) {
    case MX_HOST_UP: return "UP";
    case MX_HOST_DOWN: return "DOWN";
    default: return "UNKNOWN";
    }
}

static uint64_t now_ms(hb_t *h)
{
    return uv_now(&h->loop);
}

/* Count a switch-over of dataHost dh (slot di) and remember it for the
 * metrics endpoint's status page. */
static void note_switch(hb_t *h, const mx_datahost_t *dh, int from, int to, const char *why)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uv_mutex_lock(&h->lock);
    h->switches[dh->index]++;
    mx_switch_event_t *e = &h->switch_log[h->n_switch_log++ % MX_HEALTH_SWITCH_LOG];
    e->unix_ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
    snprintf(e->datahost, sizeof(e->datahost), "%s", dh->name);
    snprintf(e->from, sizeof(e->from), "%s", dh->write_hosts[from]->name);
    snprintf(e->to, sizeof(e->to), "%s", dh->write_hosts[to]->name);
    e->from_index = from;
    e->to_index = to;
    e->why = why;
    uv_mutex_unlock(&h->lock);
}

/* ---- dnindex.properties ---------------------------------------------------- */

static void dnindex_warn(void *arg, int line, const char *msg)
{
    hb_t *h = arg;
    h->log(LOG_WARNING, "%s:%d: %s (ignored)", h->path, line, msg);
}

static int mkdir_p(const char *dir)
{
    char tmp[1100];
    snprintf(tmp, sizeof(tmp), "%s", dir);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
            return -errno;
        *p = '/';
    }
    if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
        return -errno;
    return 0;
}

/* manx refuses to start without a state_dir it can write in: running on
 * would mean a switch-over it cannot persist, which the next restart
 * silently undoes (writes back to the writeHost that was left).  Root
 * writes through permission bits, so the test is a real file: created,
 * written, synced and removed.  Returns 0 or a negative errno (logged). */
static int check_state_dir(hb_t *h)
{
    const char *dir = h->cfg->state_dir;
    const char *what = "cannot create it";
    int rc = mkdir_p(dir);
    if (rc == 0) {
        char probe[1200];
        snprintf(probe, sizeof(probe), "%s/.manx-write-probe.%ld", dir, (long)getpid());
        what = "cannot write a file in it";
        int fd = open(probe, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0) {
            rc = -errno;
        } else {
            if (write(fd, "x", 1) != 1 || fsync(fd) < 0)
                rc = -errno;
            close(fd);
            unlink(probe);
        }
    }
    if (rc < 0)
        h->log(LOG_ERROR, "state_dir %s: %s: %s (errno %d); manx does not start without a writable state_dir, "
               "because a switch-over it could not persist would be undone by the next restart",
               dir, what, strerror(-rc), -rc);
    return rc;
}

/* Temp file, fsync, rename, fsync of the directory: a crash leaves either
 * the old or the new file, never a torn one.  Returns 0 or a negative errno. */
static int write_file(hb_t *h, const char *buf, size_t len)
{
    const mx_config_t *cfg = h->cfg;
    int rc = mkdir_p(cfg->state_dir);
    if (rc < 0)
        return rc;
    char tmp[1200];
    snprintf(tmp, sizeof(tmp), "%s.tmp", h->path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -errno;
    ssize_t w = write(fd, buf, len);
    if (w != (ssize_t)len || fsync(fd) < 0) {
        rc = w < 0 || w == (ssize_t)len ? -errno : -EIO; /* a short write: the disk is full */
        close(fd);
        unlink(tmp);
        return rc;
    }
    close(fd);
    if (rename(tmp, h->path) < 0) {
        rc = -errno;
        unlink(tmp);
        return rc;
    }
    int dfd = open(cfg->state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return 0;
}

/* Write every dataHost's active index to dnindex.properties. */
static int persist(hb_t *h)
{
    const mx_config_t *cfg = h->cfg;
    size_t nd = cfg->n_datahosts;
    size_t cap = mx_dnindex_format_cap(cfg);
    int *idx = malloc((nd ? nd : 1) * sizeof(*idx));
    char *buf = malloc(cap);
    if (!idx || !buf) {
        free(idx);
        free(buf);
        return -ENOMEM;
    }
    for (size_t i = 0; i < nd; i++)
        idx[i] = atomic_load(&h->write_index[cfg->datahosts[i].index]);
    int len = mx_dnindex_format(buf, cap, cfg, idx, time(NULL));
    int rc = len < 0 ? -ENOSPC : write_file(h, buf, (size_t)len);
    free(buf);
    uv_mutex_lock(&h->lock);
    if (rc == 0) {
        for (size_t i = 0; i < nd; i++)
            h->persisted[cfg->datahosts[i].index] = idx[i];
        h->persist_error[0] = 0;
    } else {
        snprintf(h->persist_error, sizeof(h->persist_error), "%s", strerror(-rc));
    }
    uv_mutex_unlock(&h->lock);
    free(idx);
    return rc;
}

static void on_persist_retry(uv_timer_t *t);

/* Persist after a switch.  A failure is logged every time and retried
 * every PERSIST_RETRY_MS, so the file catches up once the operator has
 * mended state_dir; until then show @@datahost says "no". */
static void save(hb_t *h)
{
    bool retrying = uv_is_active((uv_handle_t *)&h->persist_retry);
    int rc = persist(h);
    if (rc == 0) {
        if (retrying) {
            uv_timer_stop(&h->persist_retry);
            h->log(LOG_WARNING, "%s: written: the active writeHosts are persisted again", h->path);
        }
        return;
    }
    h->log(LOG_ERROR, "%s: cannot write: %s: the active writeHosts are not persisted and a restart would "
           "use the old ones (retrying every %d s)", h->path, strerror(-rc), PERSIST_RETRY_MS / 1000);
    if (!retrying)
        uv_timer_start(&h->persist_retry, on_persist_retry, PERSIST_RETRY_MS, PERSIST_RETRY_MS);
}

static void on_persist_retry(uv_timer_t *t)
{
    save(t->data);
}

/* Apply dnindex.properties.  A missing file means index 0 everywhere; a
 * file that exists but cannot be read whole (unreadable, not a regular
 * file, over MX_DNINDEX_MAX_BYTES) is an error and changes nothing,
 * because guessing index 0 could send writes back to a writeHost the
 * file says was left.  Returns 0 or a negative errno. */
static int load_dnindex(hb_t *h)
{
    size_t nd = h->cfg->n_datahosts;
    int *idx = malloc((nd ? nd : 1) * sizeof(*idx));
    if (!idx)
        return -ENOMEM;
    /* -1: not in the file.  Such a dataHost keeps its current writer, and
     * a restart would give it index 0. */
    for (size_t i = 0; i < nd; i++)
        idx[i] = -1;
    int rc = mx_dnindex_load(h->path, h->cfg, idx, dnindex_warn, h);
    if (rc < 0 && rc != -ENOENT) {
        if (rc == -EFBIG)
            h->log(LOG_ERROR, "%s: larger than %d bytes: not a dnindex.properties manx can trust", h->path,
                   MX_DNINDEX_MAX_BYTES);
        else
            h->log(LOG_ERROR, "%s: cannot read: %s", h->path, strerror(-rc));
        free(idx);
        return rc;
    }
    uv_mutex_lock(&h->lock);
    for (size_t i = 0; i < nd; i++) {
        int slot = h->cfg->datahosts[i].index;
        h->persisted[slot] = idx[i] < 0 ? 0 : idx[i];
        if (idx[i] < 0)
            idx[i] = atomic_load(&h->write_index[slot]);
    }
    uv_mutex_unlock(&h->lock);
    for (size_t i = 0; i < nd; i++) {
        const mx_datahost_t *dh = &h->cfg->datahosts[i];
        if (h->started) {
            /* An edit of the file moves writes (coordinated: proposes the
             * move to the other instances; the file is then only a cache). */
            int cur = atomic_load(&h->write_index[dh->index]);
            if (cur != idx[i])
                mx_coord_propose(h->coord, dh, cur, idx[i], "dnindex");
            continue;
        }
        atomic_store(&h->write_index[dh->index], idx[i]);
        if (idx[i])
            h->log(LOG_INFO, "dataHost %s: writes go to %s (index %d from %s)", dh->name,
                   dh->write_hosts[idx[i]]->name, idx[i], h->path);
    }
    free(idx);
    return 0;
}

/* ---- databases on the backends ------------------------------------------------- */

/* One host's list: lower-cased (ASCII), sorted, immutable once published. */
typedef struct mx_dbset_s {
    size_t n;
    char **names;
} mx_dbset_t;

static void dbset_free(mx_dbset_t *set)
{
    if (!set)
        return;
    for (size_t i = 0; i < set->n; i++)
        free(set->names[i]);
    free(set->names);
    free(set);
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Compare `name` (len bytes, any case) with a lower-cased NUL-terminated `low`. */
static int cmp_lower(const char *name, size_t len, const char *low)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i], l = (unsigned char)low[i];
        if (c >= 'A' && c <= 'Z')
            c = (unsigned char)(c + 32);
        if (l == 0 || c != l)
            return l == 0 ? 1 : c < l ? -1 : 1;
    }
    return low[len] == 0 ? 0 : -1;
}

static bool dbset_has(const mx_dbset_t *set, const char *name, size_t len)
{
    size_t lo = 0, hi = set->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = cmp_lower(name, len, set->names[mid]);
        if (c == 0)
            return true;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return false;
}

static bool dbset_equal(const mx_dbset_t *a, const mx_dbset_t *b)
{
    if (!a || !b || a->n != b->n)
        return false;
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->names[i], b->names[i]) != 0)
            return false;
    return true;
}

int mx__health_set_databases(mx_health_t *hp, int host, const char *const *names, size_t n)
{
    hb_t *h = hp->hb;
    mx_dbset_t *set = calloc(1, sizeof(*set));
    if (!set || !(set->names = calloc(n ? n : 1, sizeof(char *)))) {
        free(set);
        return -ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        char *low = strdup(names[i]);
        if (!low) {
            dbset_free(set);
            return -ENOMEM;
        }
        for (char *c = low; *c; c++)
            if (*c >= 'A' && *c <= 'Z')
                *c = (char)(*c + 32);
        set->names[set->n++] = low;
    }
    qsort(set->names, set->n, sizeof(char *), cmp_name);
    uv_rwlock_wrlock(&h->db_lock);
    mx_dbset_t *old = h->hosts[host].dbs;
    h->hosts[host].dbs = set;
    atomic_store(&h->dbs_known, true);
    uv_rwlock_wrunlock(&h->db_lock);
    int changed = !dbset_equal(old, set);
    dbset_free(old);
    return changed;
}

/* The server's own schemas exist on every backend, whatever SHOW DATABASES
 * shows the heartbeat's account: a manx user mapped to another backend
 * account (backend_user) may see them. */
static const char *const system_schemas[] = { "information_schema", "mysql", "performance_schema", "sys" };

bool mx_health_database_exists(mx_health_t *hp, const char *name, size_t len)
{
    hb_t *h = hp->hb;
    for (size_t i = 0; i < sizeof(system_schemas) / sizeof(system_schemas[0]); i++)
        if (cmp_lower(name, len, system_schemas[i]) == 0)
            return true;
    if (!atomic_load(&h->dbs_known))
        return true; /* no list yet: every name may be a database (fail closed) */
    bool found = false;
    uv_rwlock_rdlock(&h->db_lock);
    /* Every slot: this runs on the workers, and the heartbeat thread's
     * config may change under a reload (a removed host's list is freed). */
    for (size_t i = 0; i < MX_MAX_HOST_SLOTS && !found; i++)
        if (h->hosts[i].dbs)
            found = dbset_has(h->hosts[i].dbs, name, len);
    uv_rwlock_rdunlock(&h->db_lock);
    return found;
}

bool mx_health_databases_known(mx_health_t *hp)
{
    hb_t *h = hp->hb;
    return atomic_load(&h->dbs_known);
}

/* Whether this beat should also list the databases: only on a dataHost's
 * active writeHost (the server writes and DDL go to), at its first good
 * beat there and every MX_HEALTH_DB_EVERY beats after. */
static bool wants_databases(mx_hhost_t *hh)
{
    hb_t *h = hh->h;
    if (hh->dbs && hh->db_due > 0)
        return false;
    for (size_t d = 0; d < h->cfg->n_datahosts; d++)
        if (h->cfg->datahosts[d].write_hosts[atomic_load(&h->write_index[h->cfg->datahosts[d].index])] == hh->host)
            return true;
    return false;
}

static void read_databases(mx_hhost_t *hh, MYSQL_RES *res)
{
    hh->db_due = MX_HEALTH_DB_EVERY;
    size_t n = res ? (size_t)mysql_num_rows(res) : 0;
    const char **names = calloc(n ? n : 1, sizeof(*names));
    if (!names)
        return;
    size_t k = 0;
    MYSQL_ROW row;
    while (res && k < n && (row = mysql_fetch_row(res)) != NULL)
        if (row[0])
            names[k++] = row[0];
    int changed = mx__health_set_databases(hh->h->pub, hh->host->index, names, k);
    if (changed > 0) {
        char list[1024];
        size_t len = 0;
        for (size_t i = 0; i < k && len < sizeof(list); i++)
            len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s", i ? ", " : "", names[i]);
        hh->h->log(LOG_INFO, "host %s %s: %zu databases: %s%s", hh->host->name, hh->host->address, k, list,
                   len >= sizeof(list) ? "..." : "");
    }
    free(names);
}

/* ---- one beat ---------------------------------------------------------------- */

static void on_poll_closed(uv_handle_t *hd)
{
    free(hd);
}

static void drop_connection(mx_hhost_t *hh)
{
    if (hh->poll) {
        uv_poll_stop(hh->poll);
        uv_close((uv_handle_t *)hh->poll, on_poll_closed);
        hh->poll = NULL;
    }
    if (hh->res) {
        mysql_free_result(hh->res);
        hh->res = NULL;
    }
    if (hh->my) {
        MYSQL *my = hh->my;
        my_socket fd = mysql_get_socket(my);
        /* A hung server must not make mysql_close() wait: cut the socket
         * first so COM_QUIT fails at once. */
        mariadb_cancel(my);
        if (fd >= 0)
            shutdown(fd, SHUT_RDWR);
        mysql_close(my);
        hh->my = NULL;
    }
}

static void schedule(mx_hhost_t *hh, uint64_t ms);

static void host_up(mx_hhost_t *hh)
{
    hb_t *h = hh->h;
    int old = atomic_load(&hh->st->status);
    hh->changed_ms = now_ms(h);
    atomic_store(&hh->st->status, MX_HOST_UP);
    hh->up_since_ms = old == MX_HOST_UNKNOWN ? 0 : now_ms(h);
    if (old == MX_HOST_DOWN)
        h->log(LOG_WARNING, "host %s %s is UP again after %d good heartbeats (rtt %.1f ms)", hh->host->name,
               hh->host->address, hh->oks, hh->rtt_ms);
    else
        h->log(LOG_INFO, "host %s %s is UP (rtt %.1f ms)", hh->host->name, hh->host->address, hh->rtt_ms);
    mx_coord_host_changed(h->coord, hh->dh);
    /* A dataHost whose writer is down and found no candidate may now have one. */
    recheck_writers(h);
}

static void host_down(mx_hhost_t *hh)
{
    hb_t *h = hh->h;
    hh->changed_ms = now_ms(h);
    atomic_store(&hh->st->status, MX_HOST_DOWN);
    atomic_fetch_add(&hh->st->down_gen, 1);
    h->log(LOG_WARNING, "host %s %s is DOWN: %s (%s) on %d heartbeats in a row, %.2f s after the first failure",
           hh->host->name, hh->host->address, mx_fail_kind_name(atomic_load(&hh->st->last_fail)), hh->last_error,
           hh->fails, (double)(now_ms(h) - hh->first_fail_ms) / 1000.0);
    mx_coord_host_changed(h->coord, hh->dh);
    const mx_config_t *cfg = h->cfg;
    for (size_t i = 0; i < cfg->n_datahosts; i++) {
        const mx_datahost_t *dh = &cfg->datahosts[i];
        if (dh->write_hosts[atomic_load(&h->write_index[dh->index])] == hh->host)
            maybe_switch(h, dh, (size_t)dh->index);
    }
}

static void beat_ok(mx_hhost_t *hh)
{
    hb_t *h = hh->h;
    uv_timer_stop(&hh->tmo);
    hh->phase = PH_IDLE;
    uv_mutex_lock(&h->lock);
    hh->rtt_ms = (double)(now_ms(h) - hh->beat_start_ms);
    hh->fails = 0;
    uv_mutex_unlock(&h->lock);
    hh->oks++;
    if (hh->db_due > 0)
        hh->db_due--;
    atomic_store(&hh->st->suspect, false);
    int st = atomic_load(&hh->st->status);
    if (st == MX_HOST_UNKNOWN || (st == MX_HOST_DOWN && hh->oks >= hh->dh->heartbeat_rise))
        host_up(hh);
    schedule(hh, (uint64_t)hh->dh->heartbeat_period_ms);
}

static void beat_failed(mx_hhost_t *hh, int kind, const char *msg)
{
    hb_t *h = hh->h;
    uv_timer_stop(&hh->tmo);
    drop_connection(hh);
    hh->phase = PH_IDLE;
    hh->x_asked = false;
    hh->oks = 0;
    uv_mutex_lock(&h->lock);
    if (hh->fails++ == 0)
        hh->first_fail_ms = hh->beat_start_ms;
    hh->failures++;
    atomic_store(&hh->st->last_fail, kind);
    snprintf(hh->last_error, sizeof(hh->last_error), "%s", msg);
    uv_mutex_unlock(&h->lock);
    int st = atomic_load(&hh->st->status);
    if (st != MX_HOST_DOWN) {
        h->log(LOG_WARNING, "host %s %s: heartbeat failed (%d/%d): %s: %s", hh->host->name, hh->host->address,
               hh->fails, hh->dh->heartbeat_retries, mx_fail_kind_name(kind), msg);
        if (hh->fails >= hh->dh->heartbeat_retries)
            host_down(hh);
    }
    /* Remaining beats of a failing host run at the short interval, so a
     * crashed writer is confirmed within about retries x interval; after a
     * timeout the wait already happened, so the next beat starts at once
     * (a frozen writer: at most period + retries x timeout). */
    uint64_t next = (uint64_t)hh->dh->heartbeat_retry_interval_ms;
    if (st == MX_HOST_DOWN)
        next = (uint64_t)hh->dh->heartbeat_period_ms;
    else if (kind == MX_FAIL_TIMEOUT)
        next = 0;
    schedule(hh, next);
}

static int classify_errno(unsigned int e)
{
    switch (e) {
    case 2002: case 2003: case 2005:
        return MX_FAIL_REFUSED;
    case 1044: case 1045: case 1698: case 1251:
        return MX_FAIL_AUTH;
    default:
        return MX_FAIL_SQL;
    }
}

static void fail_from_mysql(mx_hhost_t *hh)
{
    char msg[200];
    unsigned int e = hh->my ? mysql_errno(hh->my) : 0;
    snprintf(msg, sizeof(msg), "%u %s", e, hh->my ? mysql_error(hh->my) : "out of memory");
    beat_failed(hh, classify_errno(e), msg);
}

static void on_tmo(uv_timer_t *t)
{
    mx_hhost_t *hh = t->data;
    if (hh->phase == PH_IDLE)
        return;
    uint64_t timeout = (uint64_t)hh->dh->heartbeat_timeout_ms;
    uint64_t elapsed = now_ms(hh->h) - hh->beat_start_ms;
    uint64_t late = elapsed > timeout ? elapsed - timeout : 0;
    if (!hh->extended && late > (timeout / 2 > 500 ? timeout / 2 : 500)) {
        /* The timer itself fired far too late: this thread did not get the
         * CPU (an overloaded machine), so the silence proves nothing about
         * the server.  Give the beat one more period before counting it. */
        hh->extended = true;
        hh->h->log(LOG_INFO, "host %s: heartbeat timer %llu ms late (machine overloaded?): waiting once more",
                   hh->host->name, (unsigned long long)late);
        uv_timer_start(&hh->tmo, on_tmo, timeout, 0);
        return;
    }
    char msg[100];
    snprintf(msg, sizeof(msg), "no answer within %d ms", hh->dh->heartbeat_timeout_ms);
    beat_failed(hh, MX_FAIL_TIMEOUT, msg);
}

static void on_poll(uv_poll_t *p, int status, int events)
{
    mx_hhost_t *hh = p->data;
    int ready = 0;
    if (status < 0)
        ready = MYSQL_WAIT_READ | MYSQL_WAIT_WRITE;
    if (events & UV_READABLE)
        ready |= MYSQL_WAIT_READ;
    if (events & UV_WRITABLE)
        ready |= MYSQL_WAIT_WRITE;
    if (events & UV_PRIORITIZED)
        ready |= MYSQL_WAIT_EXCEPT;
    run(hh, ready);
}

static void on_lib_timeout(uv_timer_t *t)
{
    mx_hhost_t *hh = t->data;
    if (hh->phase != PH_IDLE)
        run(hh, MYSQL_WAIT_TIMEOUT);
}

/* The library wants to wait for `st`: arm the poll handle. */
static void wait_for(mx_hhost_t *hh, int st)
{
    int events = 0;
    if (st & MYSQL_WAIT_READ)
        events |= UV_READABLE;
    if (st & MYSQL_WAIT_WRITE)
        events |= UV_WRITABLE;
    if (!events) {
        unsigned int ms = mysql_get_timeout_value_ms(hh->my);
        uv_timer_start(&hh->next, on_lib_timeout, ms, 0);
        return;
    }
    if (!hh->poll) {
        hh->poll = malloc(sizeof(*hh->poll));
        if (!hh->poll || uv_poll_init_socket(&hh->h->loop, hh->poll, mysql_get_socket(hh->my)) < 0) {
            free(hh->poll);
            hh->poll = NULL;
            beat_failed(hh, MX_FAIL_SQL, "cannot poll the heartbeat socket");
            return;
        }
        hh->poll->data = hh;
    }
    uv_poll_start(hh->poll, events, on_poll);
}

static void read_repl(mx_hhost_t *hh, MYSQL_RES *res)
{
    int repl = -1, lag = -1;
    MYSQL_ROW row = res ? mysql_fetch_row(res) : NULL;
    if (row) {
        unsigned int n = mysql_num_fields(res);
        MYSQL_FIELD *f = mysql_fetch_fields(res);
        const char *io = NULL, *sql = NULL, *sbm = NULL;
        for (unsigned int i = 0; i < n; i++) {
            if (strcmp(f[i].name, "Slave_IO_Running") == 0)
                io = row[i];
            else if (strcmp(f[i].name, "Slave_SQL_Running") == 0)
                sql = row[i];
            else if (strcmp(f[i].name, "Seconds_Behind_Master") == 0)
                sbm = row[i];
        }
        repl = io && sql && strcmp(io, "Yes") == 0 && strcmp(sql, "Yes") == 0;
        lag = sbm ? atoi(sbm) : -1;
    }
    int old = atomic_exchange(&hh->st->repl, repl);
    atomic_store(&hh->st->lag, lag);
    if (old != repl && old != -2 && repl == 0)
        hh->h->log(LOG_WARNING, "host %s %s: replication is not running (IO/SQL threads stopped)",
                   hh->host->name, hh->host->address);
}

/* switch_type = 3: a Galera node that is not synced serves nothing.
 * Returns false (and fails the beat) when the node reports it is not. */
static bool read_galera(mx_hhost_t *hh, MYSQL_RES *res)
{
    const char *ready = NULL, *state = NULL;
    MYSQL_ROW row;
    while (res && (row = mysql_fetch_row(res)) != NULL) {
        if (row[0] && row[1] && strcmp(row[0], "wsrep_ready") == 0)
            ready = row[1];
        else if (row[0] && row[1] && strcmp(row[0], "wsrep_local_state") == 0)
            state = row[1];
    }
    if (!ready && !state)
        return true; /* not a Galera node: plain heartbeat */
    if (ready && strcmp(ready, "ON") == 0 && state && strcmp(state, "4") == 0)
        return true;
    char msg[160];
    snprintf(msg, sizeof(msg), "Galera node not ready (wsrep_ready=%s, wsrep_local_state=%s)",
             ready ? ready : "?", state ? state : "?");
    mysql_free_result(res);
    hh->res = NULL;
    beat_failed(hh, MX_FAIL_SQL, msg);
    return false;
}

/* The beat's own statements are done: coordination may want statements
 * of its own on this connection (run before the beat counts, under its
 * timeout).  Returns true when one is to run (phase set), else the beat
 * is good. */
static bool beat_end(mx_hhost_t *hh)
{
    if (!hh->x_asked) {
        hh->x_asked = true;
        mx_coord_beat(hh->h->coord, hh->dh, hh->host->index, hh->fresh);
        hh->fresh = false;
    }
    if (hh->nx > 0) {
        hh->phase = PH_X_QUERY;
        return true;
    }
    hh->x_asked = false;
    beat_ok(hh);
    return false;
}

static void run(mx_hhost_t *hh, int ready)
{
    const mx_host_t *host = hh->host;
    for (;;) {
        int st = 0;
        switch (hh->phase) {
        case PH_CONNECT:
            if (ready < 0)
                st = mysql_real_connect_start((MYSQL **)&hh->ret_my, hh->my, host->ip, host->user,
                                              host->password, NULL, host->port, NULL, 0);
            else
                st = mysql_real_connect_cont((MYSQL **)&hh->ret_my, hh->my, ready);
            if (st)
                break;
            if (!hh->ret_my) {
                fail_from_mysql(hh);
                return;
            }
            hh->phase = PH_QUERY;
            hh->fresh = true;
            ready = -1;
            continue;
        case PH_QUERY:
        case PH_REPL_QUERY: {
            const char *q = hh->phase == PH_QUERY ? hh->dh->heartbeat
                            : hh->dh->switch_type == 3
                                ? "SHOW GLOBAL STATUS WHERE Variable_name IN ('wsrep_ready','wsrep_local_state')"
                                : "SHOW SLAVE STATUS";
            if (ready < 0)
                st = mysql_real_query_start(&hh->ret_int, hh->my, q, strlen(q));
            else
                st = mysql_real_query_cont(&hh->ret_int, hh->my, ready);
            if (st)
                break;
            if (hh->ret_int) {
                if (hh->phase == PH_REPL_QUERY) {
                    /* No privilege to look: not a reason to call the host down. */
                    atomic_store(&hh->st->repl, -1);
                    if (wants_databases(hh))
                        hh->phase = PH_DB_QUERY;
                    else if (!beat_end(hh))
                        return;
                    ready = -1;
                    continue;
                }
                fail_from_mysql(hh);
                return;
            }
            hh->phase++;
            ready = -1;
            continue;
        }
        case PH_STORE:
        case PH_REPL_STORE:
            if (ready < 0)
                st = mysql_store_result_start((MYSQL_RES **)&hh->res, hh->my);
            else
                st = mysql_store_result_cont((MYSQL_RES **)&hh->res, hh->my, ready);
            if (st)
                break;
            if (!hh->res && mysql_errno(hh->my)) {
                fail_from_mysql(hh);
                return;
            }
            if (hh->phase == PH_REPL_STORE) {
                if (hh->dh->switch_type == 3) {
                    if (!read_galera(hh, hh->res))
                        return;
                } else {
                    read_repl(hh, hh->res);
                }
            }
            if (hh->res) {
                mysql_free_result(hh->res);
                hh->res = NULL;
            }
            if (hh->phase == PH_REPL_STORE && !wants_databases(hh)) {
                if (!beat_end(hh))
                    return;
            } else {
                hh->phase = hh->phase == PH_REPL_STORE ? PH_DB_QUERY : PH_REPL_QUERY;
            }
            ready = -1;
            continue;
        case PH_DB_QUERY:
            if (ready < 0)
                st = mysql_real_query_start(&hh->ret_int, hh->my, "SHOW DATABASES", 14);
            else
                st = mysql_real_query_cont(&hh->ret_int, hh->my, ready);
            if (st)
                break;
            if (hh->ret_int) {
                /* The heartbeat's account may not list databases: keep the
                 * last list (or none), the host is not down for it. */
                hh->db_due = MX_HEALTH_DB_EVERY;
                hh->h->log(LOG_DEBUG, "host %s %s: SHOW DATABASES failed: %u %s", hh->host->name,
                           hh->host->address, mysql_errno(hh->my), mysql_error(hh->my));
                if (!beat_end(hh))
                    return;
                ready = -1;
                continue;
            }
            hh->phase = PH_DB_STORE;
            ready = -1;
            continue;
        case PH_DB_STORE:
            if (ready < 0)
                st = mysql_store_result_start((MYSQL_RES **)&hh->res, hh->my);
            else
                st = mysql_store_result_cont((MYSQL_RES **)&hh->res, hh->my, ready);
            if (st)
                break;
            if (!hh->res && mysql_errno(hh->my)) {
                fail_from_mysql(hh);
                return;
            }
            read_databases(hh, hh->res);
            if (hh->res) {
                mysql_free_result(hh->res);
                hh->res = NULL;
            }
            if (!beat_end(hh))
                return;
            ready = -1;
            continue;
        case PH_X_QUERY:
            if (ready < 0)
                st = mysql_real_query_start(&hh->ret_int, hh->my, hh->xq[0].sql, strlen(hh->xq[0].sql));
            else
                st = mysql_real_query_cont(&hh->ret_int, hh->my, ready);
            if (st)
                break;
            if (hh->ret_int) {
                unsigned int e = mysql_errno(hh->my);
                if (e >= 2000 && e < 3000) {
                    /* The link broke: the statement stays queued for the next connection. */
                    fail_from_mysql(hh);
                    return;
                }
                x_done(hh, NULL, e, mysql_error(hh->my));
                if (!beat_end(hh))
                    return;
                ready = -1;
                continue;
            }
            hh->phase = PH_X_STORE;
            ready = -1;
            continue;
        case PH_X_STORE:
            if (ready < 0)
                st = mysql_store_result_start((MYSQL_RES **)&hh->res, hh->my);
            else
                st = mysql_store_result_cont((MYSQL_RES **)&hh->res, hh->my, ready);
            if (st)
                break;
            if (!hh->res && mysql_errno(hh->my)) {
                fail_from_mysql(hh);
                return;
            }
            {
                void *res = hh->res;
                hh->res = NULL;
                x_done(hh, res, 0, "");
                if (res)
                    mysql_free_result(res);
            }
            if (!beat_end(hh))
                return;
            ready = -1;
            continue;
        default:
            return;
        }
        wait_for(hh, st);
        return;
    }
}

static void start_beat(mx_hhost_t *hh)
{
    hb_t *h = hh->h;
    if (hh->phase != PH_IDLE || atomic_load(&h->stop))
        return;
    uv_mutex_lock(&h->lock);
    hh->beats++;
    uv_mutex_unlock(&h->lock);
    hh->beat_start_ms = now_ms(h);
    hh->extended = false;
    uv_timer_start(&hh->tmo, on_tmo, (uint64_t)hh->dh->heartbeat_timeout_ms, 0);
    if (!hh->my) {
        MYSQL *my = mysql_init(NULL);
        if (!my) {
            beat_failed(hh, MX_FAIL_SQL, "out of memory");
            return;
        }
        mysql_options(my, MYSQL_OPT_NONBLOCK, 0);
        unsigned int secs = (unsigned int)(hh->dh->heartbeat_timeout_ms + 999) / 1000;
        mysql_options(my, MYSQL_OPT_CONNECT_TIMEOUT, &secs);
        if (hh->host->ssl) {
            mysql_ssl_set(my, NULL, NULL, NULL, NULL, NULL);
        }
        hh->my = my;
        hh->phase = PH_CONNECT;
    } else {
        hh->phase = PH_QUERY;
    }
    run(hh, -1);
}

static void on_next(uv_timer_t *t)
{
    start_beat(t->data);
}

static void schedule(mx_hhost_t *hh, uint64_t ms)
{
    if (!atomic_load(&hh->h->stop))
        uv_timer_start(&hh->next, on_next, ms, 0);
}

/* ---- switch-over ------------------------------------------------------------- */

/* Every dataHost whose active writeHost is down looks for another. */
static void recheck_writers(hb_t *h)
{
    const mx_config_t *cfg = h->cfg;
    for (size_t i = 0; i < cfg->n_datahosts; i++) {
        const mx_datahost_t *dh = &cfg->datahosts[i];
        const mx_host_t *w = dh->write_hosts[atomic_load(&h->write_index[dh->index])];
        if (atomic_load(&h->hosts[w->index].st->status) == MX_HOST_DOWN)
            maybe_switch(h, dh, (size_t)dh->index);
    }
}

static void on_rejoin(uv_timer_t *t)
{
    recheck_writers(t->data);
}

/* A writeHost skipped only because it came back less than rejoin_delay
 * ago becomes a candidate when the delay ends, and nothing else may
 * happen then (no host changes state in a double failure): wake up at
 * that moment.  One timer serves all dataHosts: it is set to the
 * earliest such moment, and recheck_writers() re-arms it for the others. */
static void arm_rejoin(hb_t *h, uint64_t in_ms)
{
    if (uv_is_active((uv_handle_t *)&h->rejoin) && uv_timer_get_due_in(&h->rejoin) <= in_ms)
        return;
    uv_timer_start(&h->rejoin, on_rejoin, in_ms, 0);
}

static void maybe_switch(hb_t *h, const mx_datahost_t *dh, size_t di)
{
    int cur = atomic_load(&h->write_index[di]);
    const mx_host_t *old = dh->write_hosts[cur];
    if (dh->switch_type == -1) {
        h->log(LOG_WARNING, "dataHost %s: writeHost %s is down; switch_type = -1, not switching", dh->name,
               old->name);
        return;
    }
    uint64_t now = now_ms(h);
    int pick = -1, fallback = -1, waiting = -1;
    uint64_t wait_ms = 0;
    for (size_t k = 1; k < dh->n_write_hosts; k++) {
        int i = (int)((cur + (int)k) % (int)dh->n_write_hosts);
        const mx_hhost_t *c = &h->hosts[dh->write_hosts[i]->index];
        if (atomic_load(&c->st->status) != MX_HOST_UP)
            continue;
        if (c->up_since_ms && now - c->up_since_ms < (uint64_t)dh->rejoin_delay_ms) {
            /* Just came back: may be behind, and may flap. */
            uint64_t left = (uint64_t)dh->rejoin_delay_ms - (now - c->up_since_ms);
            if (waiting < 0 || left < wait_ms) {
                waiting = i;
                wait_ms = left;
            }
            continue;
        }
        if (atomic_load(&c->st->repl) == 0) {
            if (fallback < 0)
                fallback = i;
            continue;
        }
        pick = i;
        break;
    }
    if (pick < 0 && fallback >= 0) {
        /* (Coordinated, only the instance that decides says it: the others
         * are asked again at every change of the other instances' views.) */
        uint32_t gen = atomic_load(&h->hosts[old->index].st->down_gen);
        if (mx_coord_decides(h->coord, dh) && h->fallback_said[di] != gen) {
            h->fallback_said[di] = gen;
            h->log(LOG_ERROR, "dataHost %s: the only writeHost left, %s, has broken replication: switching to it "
                   "anyway", dh->name, dh->write_hosts[fallback]->name);
        }
        pick = fallback;
    }
    if (pick < 0 && waiting >= 0) {
        h->log(LOG_ERROR, "dataHost %s: writeHost %s is down; %s is up again but takes writes only when it has "
               "been up for rejoin_delay, in %.1f s: writes fail until then",
               dh->name, old->name, dh->write_hosts[waiting]->name, (double)wait_ms / 1000.0);
        arm_rejoin(h, wait_ms);
        return;
    }
    if (pick < 0) {
        h->log(LOG_ERROR, "dataHost %s: writeHost %s is down and no other writeHost is up: writes fail until one is",
               dh->name, old->name);
        return;
    }
    mx_coord_propose(h->coord, dh, cur, pick, "heartbeat");
}

void mx__health_apply(hb_t *h, const mx_datahost_t *dh, int to, const char *why, const char *by, int64_t rev)
{
    int from = atomic_exchange(&h->write_index[dh->index], to);
    if (from == to) {
        save(h);
        return;
    }
    const mx_host_t *old = dh->write_hosts[from], *nw = dh->write_hosts[to];
    const mx_hhost_t *oh = &h->hosts[old->index];
    if (strcmp(why, "heartbeat") == 0)
        h->log(LOG_WARNING, "dataHost %s: writes switched from %s (index %d, %s) to %s (index %d), %.2f s after its "
               "first failed heartbeat", dh->name, old->name, from, mx_fail_kind_name(atomic_load(&oh->st->last_fail)),
               nw->name, to, oh->first_fail_ms ? (double)(now_ms(h) - oh->first_fail_ms) / 1000.0 : 0.0);
    else if (strcmp(why, "console") == 0)
        h->log(LOG_WARNING, "dataHost %s: writes switched by the admin console from %s (index %d) to %s (index %d)",
               dh->name, old->name, from, nw->name, to);
    else if (strcmp(why, "dnindex") == 0)
        h->log(LOG_WARNING, "dataHost %s: writes moved by %s from %s (index %d) to %s (index %d)", dh->name,
               h->path, old->name, from, nw->name, to);
    else
        h->log(LOG_WARNING, "dataHost %s: writes moved from %s (index %d) to %s (index %d) as agreed through %s "
               "(revision %lld, decided by %s)", dh->name, old->name, from, nw->name, to, why, (long long)rev,
               by && by[0] ? by : "this instance");
    note_switch(h, dh, from, to, why);
    save(h);
    mx_coord_applied(h->coord, dh, from, to);
}

bool mx__health_sql(hb_t *h, int slot, const char *sql, mx_health_sql_cb cb, void *arg)
{
    mx_hhost_t *hh = &h->hosts[slot];
    if (slot < 0 || slot >= MX_MAX_HOST_SLOTS || hh->nx == MX_HEALTH_SQL_QUEUE || !hh->dh)
        return false;
    for (int k = 0; k < hh->nx; k++) {
        if (strcmp(hh->xq[k].sql, sql) == 0 && hh->xq[k].cb == cb) {
            /* Already queued (a host still unreachable): once is enough. */
            if (cb)
                cb(arg, slot, NULL, 0, "already queued");
            return true;
        }
    }
    char *copy = strdup(sql);
    if (!copy)
        return false;
    hh->xq[hh->nx].sql = copy;
    hh->xq[hh->nx].cb = cb;
    hh->xq[hh->nx].arg = arg;
    hh->nx++;
    return true;
}

/* The first queued statement is done: take it off and tell its owner. */
static void x_done(mx_hhost_t *hh, void *res, unsigned int err, const char *msg)
{
    if (hh->nx == 0)
        return;
    mx_health_sql_cb cb = hh->xq[0].cb;
    void *arg = hh->xq[0].arg;
    free(hh->xq[0].sql);
    hh->nx--;
    memmove(&hh->xq[0], &hh->xq[1], (size_t)hh->nx * sizeof(hh->xq[0]));
    if (cb)
        cb(arg, hh->host ? hh->host->index : -1, res, err, msg);
}

/* Every queued statement is dropped (the host left the configuration, or
 * the thread stops). */
static void x_flush(mx_hhost_t *hh)
{
    while (hh->nx > 0)
        x_done(hh, NULL, 2013, "the heartbeat of this host stopped");
}

void mx__health_beat_now(hb_t *h, int slot)
{
    if (slot < 0 || slot >= MX_MAX_HOST_SLOTS)
        return;
    mx_hhost_t *hh = &h->hosts[slot];
    if (hh->dh && hh->phase == PH_IDLE && !atomic_load(&h->stop)) {
        uv_timer_stop(&hh->next);
        start_beat(hh);
    }
}

uint64_t mx__health_up_for(hb_t *h, int slot)
{
    const mx_hhost_t *hh = &h->hosts[slot];
    if (atomic_load(&hh->st->status) != MX_HOST_UP || !hh->up_since_ms)
        return 0;
    return now_ms(h) - hh->up_since_ms;
}

void mx__health_recheck(hb_t *h)
{
    recheck_writers(h);
}

const mx_config_t *mx__health_config(hb_t *h)
{
    return h->cfg;
}

/* ---- thread and API -------------------------------------------------------------- */

/* The dataHost of `host` in cfg, NULL if no dataHost lists it. */
static const mx_datahost_t *datahost_of(const mx_config_t *cfg, const mx_host_t *host)
{
    for (size_t d = 0; d < cfg->n_datahosts; d++) {
        const mx_datahost_t *dh = &cfg->datahosts[d];
        for (size_t w = 0; w < dh->n_write_hosts; w++) {
            if (dh->write_hosts[w] == host)
                return dh;
            for (size_t r = 0; r < dh->write_hosts[w]->n_read_hosts; r++)
                if (dh->write_hosts[w]->read_hosts[r] == host)
                    return dh;
        }
    }
    return NULL;
}

/* A dataHost of nc with a slot old does not have (its writeHost list
 * changed, or it is new) starts with the writeHost that was active under
 * the same name, if that host is still listed, else index 0.  Returns how
 * many such dataHosts there are. */
static int carry_writers(hb_t *h, const mx_config_t *old, const mx_config_t *nc)
{
    int n = 0;
    for (size_t d = 0; d < nc->n_datahosts; d++) {
        const mx_datahost_t *nd = &nc->datahosts[d];
        const mx_datahost_t *od = NULL;
        bool same_slot = false;
        for (size_t k = 0; k < old->n_datahosts; k++) {
            if (old->datahosts[k].index == nd->index)
                same_slot = true;
            if (strcmp(old->datahosts[k].name, nd->name) == 0)
                od = &old->datahosts[k];
        }
        if (same_slot)
            continue;
        n++;
        int pick = 0;
        if (od) {
            const mx_host_t *was = od->write_hosts[atomic_load(&h->write_index[od->index])];
            for (size_t w = 0; w < nd->n_write_hosts; w++)
                if (nd->write_hosts[w]->index == was->index)
                    pick = (int)w;
        }
        atomic_store(&h->write_index[nd->index], pick);
        uv_mutex_lock(&h->lock);
        h->persisted[nd->index] = pick;
        uv_mutex_unlock(&h->lock);
    }
    return n;
}

void mx_health_prepare(mx_health_t *hp, const mx_config_t *old, const mx_config_t *nc)
{
    hb_t *h = hp->hb;
    carry_writers(h, old, nc);
}

static void retire_host(mx_hhost_t *hh)
{
    uv_timer_stop(&hh->next);
    uv_timer_stop(&hh->tmo);
    drop_connection(hh);
    hh->phase = PH_IDLE;
    hh->x_asked = false;
    x_flush(hh);
    hh->fails = hh->oks = 0;
    atomic_store(&hh->st->status, MX_HOST_UNKNOWN);
    atomic_store(&hh->st->suspect, false);
    uv_rwlock_wrlock(&hh->h->db_lock);
    mx_dbset_t *dbs = hh->dbs;
    hh->dbs = NULL;
    uv_rwlock_wrunlock(&hh->h->db_lock);
    dbset_free(dbs);
}

/* On the heartbeat thread: use generation nc from now on (the reference
 * passes to h).  A host slot both have keeps its connection and state
 * with the new settings (heartbeat SQL, period...) from its next beat; a
 * new slot starts beating; a slot nc lacks stops. */
static void adopt(hb_t *h, mx_config_t *nc)
{
    mx_config_t *old = h->cfg;
    int moved = carry_writers(h, old, nc);
    bool *keep = calloc(MX_MAX_HOST_SLOTS, sizeof(bool));
    if (!keep) {
        h->log(LOG_ERROR, "heartbeat: out of memory adopting configuration generation %u", nc->generation);
        mx_conf_unref(nc);
        return;
    }
    for (size_t i = 0; i < nc->n_hosts; i++) {
        const mx_host_t *host = &nc->hosts[i];
        mx_hhost_t *hh = &h->hosts[host->index];
        bool was = hh->host && hh->dh;
        keep[host->index] = true;
        hh->host = host;
        hh->dh = datahost_of(nc, host);
        if (!hh->dh && was) {
            retire_host(hh);
        } else if (hh->dh && !was) {
            h->log(LOG_INFO, "host %s %s: heartbeat starts (added by a reload)", host->name, host->address);
            uv_timer_start(&hh->next, on_next, 10 + 7 * i, 0);
        }
    }
    for (size_t i = 0; i < old->n_hosts; i++) {
        int slot = old->hosts[i].index;
        mx_hhost_t *hh = &h->hosts[slot];
        if (keep[slot] || !hh->host)
            continue;
        h->log(LOG_INFO, "host %s %s: heartbeat stops (removed by a reload)", hh->host->name, hh->host->address);
        retire_host(hh);
        hh->host = NULL;
        hh->dh = NULL;
    }
    free(keep);
    h->cfg = nc;
    mx_coord_adopt(h->coord, nc);
    mx_conf_unref(old);
    if (moved)
        save(h);
    recheck_writers(h);
}

static void on_async(uv_async_t *a)
{
    hb_t *h = a->data;
    if (atomic_load(&h->stop)) {
        for (size_t i = 0; i < MX_MAX_HOST_SLOTS; i++) {
            mx_hhost_t *hh = &h->hosts[i];
            uv_timer_stop(&hh->next);
            uv_timer_stop(&hh->tmo);
            drop_connection(hh);
            hh->phase = PH_IDLE;
            x_flush(hh);
            uv_close((uv_handle_t *)&hh->next, NULL);
            uv_close((uv_handle_t *)&hh->tmo, NULL);
        }
        uv_timer_stop(&h->rejoin);
        uv_close((uv_handle_t *)&h->rejoin, NULL);
        uv_timer_stop(&h->persist_retry);
        uv_close((uv_handle_t *)&h->persist_retry, NULL);
        mx_coord_stop(h->coord);
        uv_close((uv_handle_t *)&h->async, NULL);
        return;
    }
    mx_config_t *nc = atomic_exchange(&h->next_cfg, NULL);
    if (nc)
        adopt(h, nc);
    if (atomic_exchange(&h->reload, false) && load_dnindex(h) < 0)
        h->log(LOG_ERROR, "%s: not applied; writes stay where they are", h->path);
    for (size_t d = 0; d < h->cfg->n_datahosts; d++) {
        const mx_datahost_t *dh = &h->cfg->datahosts[d];
        int req = atomic_exchange(&h->switch_to[dh->index], 0);
        if (req == 0)
            continue;
        int to = req - 1;
        if ((size_t)to < dh->n_write_hosts)
            mx_coord_propose(h->coord, dh, atomic_load(&h->write_index[dh->index]), to, "console");
    }
    for (size_t i = 0; i < h->cfg->n_hosts; i++) {
        mx_hhost_t *hh = &h->hosts[h->cfg->hosts[i].index];
        if (!atomic_exchange(&hh->st->kick, false))
            continue;
        /* A broken backend connection: check now instead of at the next
         * period, unless a beat is running, the host is known down, or it
         * is already failing (then the retry interval paces the beats, so
         * a burst of broken connections still takes `retries` paced beats). */
        if (hh->phase == PH_IDLE && hh->fails == 0 && atomic_load(&hh->st->status) != MX_HOST_DOWN) {
            uv_timer_stop(&hh->next);
            start_beat(hh);
        }
    }
}

static void thread_main(void *arg)
{
    hb_t *h = arg;
    mx_coord_start(h->coord);
    uv_run(&h->loop, UV_RUN_DEFAULT);
}

int mx_health_init(mx_health_t *hp, mx_config_t *cfg, mx_health_log_fn log)
{
    memset(hp, 0, sizeof(*hp));
    hb_t *h = calloc(1, sizeof(*h));
    if (!h)
        return -ENOMEM;
    h->pub = hp;
    mx_conf_ref(cfg);
    h->cfg = cfg;
    h->log = log;
    snprintf(h->path, sizeof(h->path), "%s/dnindex.properties", cfg->state_dir);
    /* By slot, for every slot the process may use: hosts and dataHosts a
     * reload adds need no reallocation that other threads would race. */
    h->hosts = calloc(MX_MAX_HOST_SLOTS, sizeof(*h->hosts));
    hp->hosts = calloc(MX_MAX_HOST_SLOTS, sizeof(*hp->hosts));
    h->write_index = calloc(MX_MAX_DH_SLOTS, sizeof(*h->write_index));
    h->switch_to = calloc(MX_MAX_DH_SLOTS, sizeof(*h->switch_to));
    h->persisted = calloc(MX_MAX_DH_SLOTS, sizeof(*h->persisted));
    h->switches = calloc(MX_MAX_DH_SLOTS, sizeof(*h->switches));
    h->fallback_said = calloc(MX_MAX_DH_SLOTS, sizeof(*h->fallback_said));
    bool ok = h->hosts && hp->hosts && h->write_index && h->switch_to && h->persisted && h->switches &&
              h->fallback_said;
    int rc = ok ? uv_loop_init(&h->loop) : -ENOMEM;
    if (rc < 0) {
        free(h->switches);
        free(h->fallback_said);
        free(h->hosts);
        free(hp->hosts);
        free(h->write_index);
        free(h->switch_to);
        free(h->persisted);
        mx_conf_unref(cfg);
        free(h);
        memset(hp, 0, sizeof(*hp));
        return rc;
    }
    hp->write_index = h->write_index;
    hp->path = h->path;
    hp->hb = h;
    for (size_t i = 0; i < MX_MAX_HOST_SLOTS; i++) {
        mx_hhost_t *hh = &h->hosts[i];
        hh->st = &hp->hosts[i];
        hh->h = h;
        atomic_store(&hh->st->repl, -2);
        atomic_store(&hh->st->lag, -1);
        uv_timer_init(&h->loop, &hh->next);
        uv_timer_init(&h->loop, &hh->tmo);
        hh->next.data = hh->tmo.data = hh;
    }
    for (size_t i = 0; i < cfg->n_hosts; i++) {
        mx_hhost_t *hh = &h->hosts[cfg->hosts[i].index];
        hh->host = &cfg->hosts[i];
        hh->dh = datahost_of(cfg, hh->host);
    }
    uv_async_init(&h->loop, &h->async, on_async);
    h->async.data = h;
    uv_timer_init(&h->loop, &h->rejoin);
    h->rejoin.data = h;
    uv_timer_init(&h->loop, &h->persist_retry);
    h->persist_retry.data = h;
    uv_mutex_init(&h->lock);
    uv_rwlock_init(&h->db_lock);
    h->coord = mx_coord_new(h, hp, &h->loop, cfg, log);
    rc = h->coord ? check_state_dir(h) : -ENOMEM;
    if (rc == 0)
        rc = load_dnindex(h);
    if (rc < 0)
        mx_health_stop(hp);
    return rc;
}

int mx_health_start(mx_health_t *hp)
{
    hb_t *h = hp->hb;
    /* Hosts no dataHost uses are not checked; the others start staggered. */
    for (size_t i = 0; i < h->cfg->n_hosts; i++) {
        mx_hhost_t *hh = &h->hosts[h->cfg->hosts[i].index];
        if (hh->dh)
            uv_timer_start(&hh->next, on_next, 10 + 7 * i, 0);
    }
    /* Set before the thread exists: it reads the flag (load_dnindex). */
    h->started = true;
    int rc = uv_thread_create(&h->thread, thread_main, h);
    if (rc != 0)
        h->started = false;
    return rc;
}

void mx_health_stop(mx_health_t *hp)
{
    hb_t *h = hp->hb;
    if (!h)
        return;
    if (h->started) {
        atomic_store(&h->stop, true);
        uv_async_send(&h->async);
        uv_thread_join(&h->thread);
    } else {
        uv_close((uv_handle_t *)&h->async, NULL);
        uv_close((uv_handle_t *)&h->rejoin, NULL);
        uv_close((uv_handle_t *)&h->persist_retry, NULL);
        for (size_t i = 0; i < MX_MAX_HOST_SLOTS; i++) {
            uv_close((uv_handle_t *)&h->hosts[i].next, NULL);
            uv_close((uv_handle_t *)&h->hosts[i].tmo, NULL);
        }
        if (h->coord)
            mx_coord_stop(h->coord);
        uv_run(&h->loop, UV_RUN_DEFAULT);
    }
    uv_run(&h->loop, UV_RUN_NOWAIT);
    uv_loop_close(&h->loop);
    /* The last word on a switch that never reached the disk. */
    for (size_t d = 0; h->started && d < h->cfg->n_datahosts; d++) {
        const mx_datahost_t *dh = &h->cfg->datahosts[d];
        int active = atomic_load(&h->write_index[dh->index]);
        int persisted = h->persisted[dh->index];
        if (active != persisted)
            h->log(LOG_ERROR, "dataHost %s: writes went to %s (index %d) but %s holds index %d (%s): the next start "
                   "sends writes to %s unless the file is corrected", dh->name, dh->write_hosts[active]->name, active,
                   h->path, persisted, h->persist_error[0] ? h->persist_error : "not written",
                   dh->write_hosts[persisted]->name);
    }
    uv_mutex_destroy(&h->lock);
    mx_coord_free(h->coord);
    for (size_t i = 0; i < MX_MAX_HOST_SLOTS; i++) {
        dbset_free(h->hosts[i].dbs);
        for (int k = 0; k < h->hosts[i].nx; k++)
            free(h->hosts[i].xq[k].sql);
    }
    mx_conf_unref(atomic_exchange(&h->next_cfg, NULL));
    mx_conf_unref(h->cfg);
    h->cfg = NULL;
    uv_rwlock_destroy(&h->db_lock);
    free(h->hosts);
    free(hp->hosts);
    free(h->write_index);
    free(h->switch_to);
    free(h->persisted);
    free(h->switches);
    free(h->fallback_said);
    free(h);
    memset(hp, 0, sizeof(*hp));
}

void mx_health_snapshot(mx_health_t *hp, int index, mx_host_snapshot_t *out)
{
    hb_t *h = hp->hb;
    mx_hhost_t *hh = &h->hosts[index];
    memset(out, 0, sizeof(*out));
    out->status = atomic_load(&hh->st->status);
    out->last_fail = atomic_load(&hh->st->last_fail);
    out->repl = atomic_load(&hh->st->repl);
    out->lag = atomic_load(&hh->st->lag);
    out->suspect = atomic_load(&hh->st->suspect);
    uv_mutex_lock(&h->lock);
    out->fails = hh->fails;
    out->beats = hh->beats;
    out->failures = hh->failures;
    out->rtt_ms = hh->rtt_ms;
    memcpy(out->last_error, hh->last_error, sizeof(out->last_error));
    uint64_t changed = hh->changed_ms;
    uv_mutex_unlock(&h->lock);
    out->since_ms = changed ? uv_hrtime() / 1000000 - changed : 0;
}

void mx_health_datahost_snapshot(mx_health_t *hp, size_t di, mx_datahost_snapshot_t *out)
{
    hb_t *h = hp->hb;
    memset(out, 0, sizeof(*out));
    uv_mutex_lock(&h->lock);
    out->active = atomic_load(&h->write_index[di]);
    out->persisted = h->persisted[di];
    memcpy(out->persist_error, h->persist_error, sizeof(out->persist_error));
    out->switches = h->switches[di];
    uv_mutex_unlock(&h->lock);
}

size_t mx_health_switch_log(mx_health_t *hp, mx_switch_event_t *out, size_t max)
{
    hb_t *h = hp->hb;
    uv_mutex_lock(&h->lock);
    uint64_t n = h->n_switch_log < MX_HEALTH_SWITCH_LOG ? h->n_switch_log : MX_HEALTH_SWITCH_LOG;
    if (n > max)
        n = max;
    for (uint64_t i = 0; i < n; i++)
        out[i] = h->switch_log[(h->n_switch_log - n + i) % MX_HEALTH_SWITCH_LOG];
    uv_mutex_unlock(&h->lock);
    return (size_t)n;
}

bool mx_health_switch(mx_health_t *hp, const mx_datahost_t *dh, int idx)
{
    hb_t *h = hp->hb;
    if (idx < 0 || (size_t)idx >= dh->n_write_hosts || dh->index < 0 || dh->index >= MX_MAX_DH_SLOTS)
        return false;
    atomic_store(&h->switch_to[dh->index], idx + 1);
    uv_async_send(&h->async);
    return true;
}

void mx_health_set_config(mx_health_t *hp, mx_config_t *cfg)
{
    hb_t *h = hp->hb;
    mx_conf_ref(cfg);
    mx_conf_unref(atomic_exchange(&h->next_cfg, cfg));
    uv_async_send(&h->async);
}

void mx_health_reload(mx_health_t *hp)
{
    hb_t *h = hp->hb;
    atomic_store(&h->reload, true);
    uv_async_send(&h->async);
}

mx_coord_t *mx_health_coord(mx_health_t *hp)
{
    return hp->hb ? hp->hb->coord : NULL;
}

void mx_health_kick(mx_health_t *hp, int index)
{
    hb_t *h = hp->hb;
    if (!h || index < 0 || index >= MX_MAX_HOST_SLOTS)
        return;
    atomic_store(&h->hosts[index].st->suspect, true);
    atomic_store(&h->hosts[index].st->kick, true);
    uv_async_send(&h->async);
}
