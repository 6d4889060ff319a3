/* Statement statistics and connection snapshots for the console (see
 * stats.h).  Everything a worker records lives in its own mx_stats_t,
 * allocated once at worker start: recording a statement never allocates,
 * takes the worker's (uncontended) lock twice and lexes the text for its
 * digest only while digests are on. */
#include "stats.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <netinet/in.h>

#include "list.h"
#include "router/digest.h"

struct mx_stats_s {
    uv_mutex_t lock;             /* the worker writes, the console copies */
    int worker;
    uint64_t next_id;            /* statements numbered from 1 */
    uint64_t started, finished;
    mx_sql_rec_t recent[MX_STATS_RECENT];
    mx_sql_rec_t slow[MX_STATS_SLOW];
    uint64_t n_slow;
    mx_digest_rec_t digests[MX_STATS_DIGESTS];
    uint64_t dhash[MX_STATS_DIGESTS];   /* digests[i].hash, scanned without touching the records */
    mx_dn_rec_t datanodes[MX_STATS_DATANODES];
    /* The snapshot of the last publish. */
    mx_conn_row_t *conns;
    size_t n_conns, cap_conns;
    mx_backend_row_t *backends;
    size_t n_backends, cap_backends;
    mx_worker_row_t totals;
};

/* Shared settings: the console writes, every worker reads. */
static _Atomic uint32_t slow_ms = 1000;
static _Atomic bool digests_on = true;

void mx_stats_set_slow_ms(uint32_t ms)
{
    atomic_store_explicit(&slow_ms, ms, memory_order_relaxed);
}

uint32_t mx_stats_slow_ms(void)
{
    return atomic_load_explicit(&slow_ms, memory_order_relaxed);
}

void mx_stats_set_digests(bool on)
{
    atomic_store_explicit(&digests_on, on, memory_order_relaxed);
}

bool mx_stats_digests(void)
{
    return atomic_load_explicit(&digests_on, memory_order_relaxed);
}

mx_stats_t *mx_stats_new(int worker)
{
    mx_stats_t *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    if (uv_mutex_init(&s->lock) != 0) {
        free(s);
        return NULL;
    }
    s->worker = worker;
    return s;
}

void mx_stats_free(mx_stats_t *s)
{
    if (!s)
        return;
    uv_mutex_destroy(&s->lock);
    free(s->conns);
    free(s->backends);
    free(s);
}

/* ---- recording statements (on the worker) ------------------------------- */

static uint64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static unsigned hist_bucket(uint64_t us)
{
    if (us == 0)
        return 0;
    unsigned b = 63u - (unsigned)__builtin_clzll(us);
    unsigned sub = (unsigned)(((us << 2) >> b) & 3u);
    unsigned i = b * 4 + sub;
    return i < MX_STATS_HIST ? i : MX_STATS_HIST - 1;
}

uint64_t mx_stats_p99(const uint32_t *hist)
{
    uint64_t n = 0;
    for (unsigned i = 0; i < MX_STATS_HIST; i++)
        n += hist[i];
    if (n == 0)
        return 0;
    uint64_t want = n - n / 100, seen = 0; /* the rank of the 99th percentile, rounded up */
    for (unsigned i = 0; i < MX_STATS_HIST; i++) {
        seen += hist[i];
        if (seen >= want) {
            unsigned b = i / 4, sub = i % 4;
            return ((uint64_t)(4 + sub + 1) << b) >> 2;
        }
    }
    return 0;
}

void mx_stats_merge_digest(mx_digest_rec_t *dst, const mx_digest_rec_t *src)
{
    dst->count += src->count;
    dst->errors += src->errors;
    dst->total_us += src->total_us;
    if (src->max_us > dst->max_us)
        dst->max_us = src->max_us;
    dst->rows += src->rows;
    dst->writer += src->writer;
    dst->reader += src->reader;
    for (unsigned i = 0; i < MX_STATS_HIST; i++)
        dst->hist[i] += src->hist[i];
}

/* The slot of digest `hash`; when it is new, a free slot or the one with
 * the least total time (so the table keeps the top ones), set up for it. */
/* The slot of digest `hash`, -1 when it has none. */
static int find_digest(const mx_stats_t *s, uint64_t hash)
{
    for (size_t i = 0; i < MX_STATS_DIGESTS; i++)
        if (s->dhash[i] == hash)
            return (int)i;
    return -1;
}

/* A new slot for digest `hash`: a free one or the one with the least total
 * time gives way. */
static size_t digest_slot(mx_stats_t *s, uint64_t hash, const char *text)
{
    size_t least = 0;
    for (size_t i = 0; i < MX_STATS_DIGESTS; i++) {
        if (s->dhash[i] == 0) {
            least = i;
            break;
        }
        if (s->digests[i].total_us < s->digests[least].total_us)
            least = i;
    }
    mx_digest_rec_t *d = &s->digests[least];
    memset(d, 0, sizeof(*d));
    d->hash = s->dhash[least] = hash;
    snprintf(d->text, sizeof(d->text), "%s", text);
    return least;
}

/* The digest of a statement text and its fingerprint in text.  A digest
 * reads at most the first 16 kB: a long multi-row INSERT folds row after
 * row and would otherwise be lexed to its end. */
static uint64_t digest_of(const mx_client_t *cl, const uint8_t *sql, size_t n, char *text)
{
    mx_lexmode_t mode = {
        .sql_mode = (uint8_t)(atomic_load_explicit(&mx_proc.sql_mode_default, memory_order_relaxed) & 0x7f),
        .charset = (uint8_t)mx_charset_kind_of_collation(cl->st.collation),
        .server_version = atomic_load_explicit(&mx_proc.backend_version, memory_order_relaxed),
        .mariadb = atomic_load_explicit(&mx_proc.backend_mariadb, memory_order_relaxed),
    };
    uint64_t hash = mx_digest(sql, n < 16384 ? n : 16384, &mode, text, MX_DIGEST_TEXT_MAX);
    return hash + (hash == 0); /* 0 means none */
}

/* The text the statement runs: a query's, or a prepared statement's. */
static const uint8_t *statement_text(const mx_client_t *cl, const uint8_t *payload, size_t len, size_t *n)
{
    if (cl->cmd == MX_COM_QUERY && len > 1) {
        *n = len - 1;
        return payload + 1;
    }
    if (cl->cmd == MX_COM_STMT_EXECUTE && cl->cur_stmt) {
        *n = cl->cur_stmt->sql_len;
        return (const uint8_t *)cl->cur_stmt->sql;
    }
    *n = 0;
    return NULL;
}

void mx_stats_statement_start(mx_client_t *cl, const uint8_t *payload, size_t len)
{
    mx_stats_t *s = cl->conn.w->stats;
    cl->stat.start_ns = 0;
    cl->stat.id = cl->stat.digest = 0;
    if (!s || !mx_resp_expected(cl->cmd))
        return;
    cl->stat.start_ns = uv_hrtime();
    size_t n;
    const uint8_t *sql = statement_text(cl, payload, len, &n);
    char text[MX_DIGEST_TEXT_MAX];
    uint64_t hash = 0;
    bool have_text = false;
    mx_stmt_t *ps = cl->cmd == MX_COM_STMT_EXECUTE ? cl->cur_stmt : NULL;
    if (sql && mx_stats_digests()) {
        if (ps && ps->digest) {
            hash = ps->digest; /* a prepared text's digest is taken once */
        } else {
            hash = digest_of(cl, sql, n, text);
            have_text = true;
            if (ps)
                ps->digest = hash;
        }
    }
    uint64_t now = sql ? wall_ms() : 0;
    uv_mutex_lock(&s->lock);
    s->started++;
    if (sql) {
        uint64_t id = ++s->next_id;
        mx_sql_rec_t *r = &s->recent[id % MX_STATS_RECENT];
        r->id = id;
        r->done = false;
        size_t ul = strnlen(cl->user_name, sizeof(r->user) - 1);
        memcpy(r->user, cl->user_name, ul);
        r->user[ul] = 0;
        r->start_ms = now;
        r->exec_us = 0;
        size_t k = n < sizeof(r->sql) - 1 ? n : sizeof(r->sql) - 1;
        memcpy(r->sql, sql, k);
        r->sql[k] = 0;
        cl->stat.id = id;
    }
    if (hash) {
        int slot = find_digest(s, hash);
        if (slot < 0) {
            if (!have_text)
                digest_of(cl, sql, n, text); /* evicted since: its text again */
            slot = (int)digest_slot(s, hash, text);
        }
        cl->stat.digest_slot = (uint16_t)slot;
        cl->stat.digest = hash;
    }
    uv_mutex_unlock(&s->lock);
}

static void datanode_done(mx_stats_t *s, const char *name, uint64_t us, const char *sql)
{
    mx_dn_rec_t *d = NULL;
    for (size_t i = 0; i < MX_STATS_DATANODES && !d; i++)
        if (strcmp(s->datanodes[i].name, name) == 0 || !s->datanodes[i].name[0])
            d = &s->datanodes[i];
    if (!d)
        return; /* more dataNodes than slots: the ones seen first are counted */
    if (!d->name[0])
        snprintf(d->name, sizeof(d->name), "%s", name);
    d->count++;
    d->total_us += us;
    if (us >= d->max_us) {
        d->max_us = us;
        snprintf(d->max_sql, sizeof(d->max_sql), "%s", sql);
    }
}

bool mx_stats_statement_done(mx_client_t *cl, const mx_resp_t *r, uint64_t *us_out)
{
    mx_stats_t *s = cl->conn.w->stats;
    if (!s || !cl->stat.start_ns)
        return false;
    uint64_t us = (uv_hrtime() - cl->stat.start_ns) / 1000;
    *us_out = us;
    uint32_t slow = mx_stats_slow_ms();
    uv_mutex_lock(&s->lock);
    s->finished++;
    const char *sql = "";
    mx_sql_rec_t *rec = cl->stat.id ? &s->recent[cl->stat.id % MX_STATS_RECENT] : NULL;
    /* The ring may have moved past it while the statement ran. */
    if (rec && rec->id == cl->stat.id) {
        rec->done = true;
        rec->exec_us = us;
        sql = rec->sql;
        if (slow > 0 && us >= (uint64_t)slow * 1000)
            s->slow[s->n_slow++ % MX_STATS_SLOW] = *rec;
    }
    /* The slot it took at the start, unless another digest took it over. */
    mx_digest_rec_t *d = cl->stat.digest && s->dhash[cl->stat.digest_slot] == cl->stat.digest
                             ? &s->digests[cl->stat.digest_slot] : NULL;
    if (d) {
        d->count++;
        d->errors += r->is_error;
        d->total_us += us;
        if (us > d->max_us)
            d->max_us = us;
        d->hist[hist_bucket(us)]++;
        d->rows += r->rows;
        if (cl->routed_read)
            d->reader++;
        else
            d->writer++;
    }
    if (cl->schema)
        datanode_done(s, cl->schema->datanode->name, us, sql);
    uv_mutex_unlock(&s->lock);
    cl->stat.start_ns = 0;
    return true;
}

/* ---- the snapshot (on the worker's janitor tick) ------------------------ */

static void txlevel(const mx_sstate_t *st, char *out, size_t cap)
{
    snprintf(out, cap, "%s", "");
    for (uint32_t i = 0; i < st->n_vars; i++)
        if (strcmp(st->vars[i].name, "transaction_isolation") == 0 || strcmp(st->vars[i].name, "tx_isolation") == 0)
            snprintf(out, cap, "%s", st->vars[i].value);
}

static void client_row(mx_stats_t *s, const mx_client_t *cl, mx_conn_row_t *r)
{
    memset(r, 0, sizeof(*r));
    r->id = cl->id;
    r->admin = cl->admin;
    snprintf(r->peer, sizeof(r->peer), "%s", cl->peer);
    snprintf(r->user, sizeof(r->user), "%s", cl->user_name);
    if (cl->schema)
        snprintf(r->schema, sizeof(r->schema), "%s", cl->schema->name);
    r->collation = cl->st.collation;
    r->net_in = cl->conn.bytes_in;
    r->net_out = cl->conn.bytes_out;
    r->born_ms = cl->conn.born_ms;
    r->recv_buffer = cl->conn.buf ? MX_BUF_SIZE : 0;
    r->send_queue = cl->conn.wq_bytes;
    txlevel(&cl->st, r->txlevel, sizeof(r->txlevel));
    r->autocommit = (cl->status & MX_STATUS_AUTOCOMMIT) != 0;
    r->in_trans = (cl->status & MX_STATUS_IN_TRANS) != 0;
    r->state = (uint8_t)cl->state;
    r->backend = cl->server ? cl->server->id : 0;
    if (cl->state == CL_ACTIVE && cl->stat.id) {
        const mx_sql_rec_t *q = &s->recent[cl->stat.id % MX_STATS_RECENT];
        if (q->id == cl->stat.id)
            snprintf(r->sql, sizeof(r->sql), "%s", q->sql);
    }
}

static void backend_row(const mx_server_t *sv, mx_backend_row_t *r)
{
    memset(r, 0, sizeof(*r));
    r->id = sv->id;
    r->thread_id = sv->backend_thread_id;
    const mx_host_t *h = sv->pool->host;
    if (h) {
        r->host = h->index;
        snprintf(r->host_name, sizeof(r->host_name), "%s", h->name);
        snprintf(r->ip, sizeof(r->ip), "%s", h->ip);
        r->port = h->port;
    }
    struct sockaddr_storage ss;
    int len = sizeof(ss);
    if (sv->state != SV_CONNECTING && uv_tcp_getsockname(&sv->conn.tcp, (struct sockaddr *)&ss, &len) == 0)
        r->local_port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                                       : ((struct sockaddr_in *)&ss)->sin_port);
    r->net_in = sv->conn.bytes_in;
    r->net_out = sv->conn.bytes_out;
    r->born_ms = sv->conn.born_ms;
    r->borrowed = sv->state == SV_ACTIVE;
    r->send_queue = sv->conn.wq_bytes;
    snprintf(r->schema, sizeof(r->schema), "%s", sv->st.db);
    r->collation = sv->st.collation;
    txlevel(&sv->st, r->txlevel, sizeof(r->txlevel));
    /* A backend holds its session's autocommit while linked; between
     * sessions it is back at the default. */
    r->autocommit = sv->client ? (sv->client->status & MX_STATUS_AUTOCOMMIT) != 0 : true;
    r->state = (uint8_t)sv->state;
    r->client = sv->client ? sv->client->id : 0;
}

/* Grows *arr to hold n rows of `size` bytes; false when out of memory. */
static bool reserve(void **arr, size_t *cap, size_t n, size_t size)
{
    if (n <= *cap)
        return true;
    size_t c = *cap ? *cap : 16;
    while (c < n)
        c *= 2;
    void *p = realloc(*arr, c * size);
    if (!p)
        return false;
    *arr = p;
    *cap = c;
    return true;
}

static size_t count_list(const mx_list_t *l)
{
    size_t n = 0;
    for (const mx_list_t *i = l->next; i != l; i = i->next)
        n++;
    return n;
}

static void add_backends(mx_stats_t *s, const mx_list_t *l, size_t *n)
{
    for (const mx_list_t *i = l->next; i != l && *n < s->cap_backends; i = i->next)
        backend_row(MX_CONTAINER_OF(i, mx_server_t, link), &s->backends[(*n)++]);
}

void mx_stats_publish(mx_worker_t *w)
{
    mx_stats_t *s = w->stats;
    if (!s)
        return;
    size_t nc = count_list(&w->clients), nb = 0;
    for (size_t i = 0; i < w->n_pools; i++) {
        mx_pool_t *p = w->pool_list[i];
        nb += count_list(&p->active) + count_list(&p->connecting);
        for (int f = 0; f < MX_FLAVORS; f++)
            nb += count_list(&p->idle[f]);
    }
    mx_worker_row_t t;
    memset(&t, 0, sizeof(t));
    uv_mutex_lock(&s->lock);
    bool ok = reserve((void **)&s->conns, &s->cap_conns, nc, sizeof(mx_conn_row_t)) &&
              reserve((void **)&s->backends, &s->cap_backends, nb, sizeof(mx_backend_row_t));
    if (ok) {
        size_t n = 0;
        for (mx_list_t *l = w->clients.next; l != &w->clients && n < nc; l = l->next) {
            const mx_client_t *cl = MX_CONTAINER_OF(l, mx_client_t, link);
            client_row(s, cl, &s->conns[n++]);
            t.send_queue += cl->conn.wq_bytes;
            t.bufs_used += cl->conn.buf != NULL;
            t.waiting += cl->state == CL_WAIT_POOL;
            t.active += cl->state == CL_ACTIVE || cl->state == CL_INFILE;
        }
        s->n_conns = n;
        n = 0;
        for (size_t i = 0; i < w->n_pools; i++) {
            mx_pool_t *p = w->pool_list[i];
            add_backends(s, &p->active, &n);
            add_backends(s, &p->connecting, &n);
            for (int f = 0; f < MX_FLAVORS; f++)
                add_backends(s, &p->idle[f], &n);
        }
        s->n_backends = n;
        for (size_t i = 0; i < n; i++)
            t.send_queue += s->backends[i].send_queue;
    }
    t.net_in = w->bytes_in[MX_SIDE_CLIENT] + w->bytes_in[MX_SIDE_BACKEND];
    t.net_out = w->bytes_out[MX_SIDE_CLIENT] + w->bytes_out[MX_SIDE_BACKEND];
    t.started = s->started;
    t.finished = s->finished;
    t.clients = (uint32_t)s->n_conns;
    t.backends = (uint32_t)s->n_backends;
    t.bufs_free = (uint32_t)w->n_buf_free;
    s->totals = t;
    uv_mutex_unlock(&s->lock);
}

/* ---- the console's copies ----------------------------------------------- */

void mx_stats_each_sql(mx_worker_t *w, bool slow, mx_stats_fn fn, void *arg)
{
    mx_stats_t *s = w->stats;
    uv_mutex_lock(&s->lock);
    const mx_sql_rec_t *ring = slow ? s->slow : s->recent;
    size_t n = slow ? MX_STATS_SLOW : MX_STATS_RECENT;
    for (size_t i = 0; i < n; i++)
        if (ring[i].id && ring[i].done)
            fn(arg, &ring[i]);
    uv_mutex_unlock(&s->lock);
}

void mx_stats_each_digest(mx_worker_t *w, mx_stats_fn fn, void *arg)
{
    mx_stats_t *s = w->stats;
    uv_mutex_lock(&s->lock);
    for (size_t i = 0; i < MX_STATS_DIGESTS; i++)
        if (s->digests[i].hash && s->digests[i].count)
            fn(arg, &s->digests[i]);
    uv_mutex_unlock(&s->lock);
}

void mx_stats_each_datanode(mx_worker_t *w, mx_stats_fn fn, void *arg)
{
    mx_stats_t *s = w->stats;
    uv_mutex_lock(&s->lock);
    for (size_t i = 0; i < MX_STATS_DATANODES && s->datanodes[i].name[0]; i++)
        fn(arg, &s->datanodes[i]);
    uv_mutex_unlock(&s->lock);
}

void mx_stats_each_conn(mx_worker_t *w, mx_stats_fn fn, void *arg)
{
    mx_stats_t *s = w->stats;
    uv_mutex_lock(&s->lock);
    for (size_t i = 0; i < s->n_conns; i++)
        fn(arg, &s->conns[i]);
    uv_mutex_unlock(&s->lock);
}

void mx_stats_each_backend(mx_worker_t *w, mx_stats_fn fn, void *arg)
{
    mx_stats_t *s = w->stats;
    uv_mutex_lock(&s->lock);
    for (size_t i = 0; i < s->n_backends; i++)
        fn(arg, &s->backends[i]);
    uv_mutex_unlock(&s->lock);
}

void mx_stats_worker(mx_worker_t *w, mx_worker_row_t *out)
{
    mx_stats_t *s = w->stats;
    uv_mutex_lock(&s->lock);
    *out = s->totals;
    uv_mutex_unlock(&s->lock);
}

void mx_stats_reset_digests(mx_worker_t *w)
{
    mx_stats_t *s = w->stats;
    uv_mutex_lock(&s->lock);
    memset(s->digests, 0, sizeof(s->digests));
    memset(s->dhash, 0, sizeof(s->dhash));
    uv_mutex_unlock(&s->lock);
}
