/* What the console shows of statements and connections: per worker, a ring
 * of recent statements (show @@sql), a ring of slow ones (show @@sql.slow),
 * a bounded table of statement digests (show @@digest), per-dataNode
 * timings (show @@datanode), and a snapshot of the worker's client sessions
 * and backend connections that the worker rebuilds on its janitor tick
 * (show @@connection, show @@backend, show @@processor).  The worker
 * writes and the console (on worker 0) copies, each under the worker's own
 * stats lock, which only the console's copy ever contends for. */
#ifndef MX_PROXY_STATS_H
#define MX_PROXY_STATS_H

#include "proxy-t.h"

#define MX_STATS_SQL_MAX 256     /* bytes of a statement's text kept for show @@sql, NUL included */
#define MX_STATS_RECENT 256      /* show @@sql: statements kept per worker */
#define MX_STATS_SLOW 64         /* show @@sql.slow: statements kept per worker */
#define MX_STATS_DIGESTS 256     /* digests kept per worker (top by total time) */
#define MX_STATS_DATANODES 64    /* dataNodes with timings per worker */
#define MX_STATS_HIST 112        /* latency buckets: 4 a power of two from 1 us up */

/* One statement of show @@sql / show @@sql.slow. */
typedef struct mx_sql_rec_s {
    uint64_t id;                 /* worker index in the top byte, then its statement number */
    bool done;                   /* finished (the ring also holds statements in flight) */
    char user[MX_NAME_MAX];
    uint64_t start_ms;           /* wall clock, ms since the epoch */
    uint64_t exec_us;            /* response time */
    char sql[MX_STATS_SQL_MAX];
} mx_sql_rec_t;

/* One digest of show @@digest; merged over workers by the console. */
typedef struct mx_digest_rec_s {
    uint64_t hash;               /* 0: free slot */
    char text[512];              /* MX_DIGEST_TEXT_MAX */
    uint64_t count, errors, total_us, max_us, rows, writer, reader;
    uint32_t hist[MX_STATS_HIST];
} mx_digest_rec_t;

typedef struct mx_dn_rec_s {
    char name[MX_NAME_MAX];      /* "" free */
    uint64_t count, total_us, max_us;
    char max_sql[MX_STATS_SQL_MAX];
} mx_dn_rec_t;

/* A client session as show @@connection shows it. */
typedef struct mx_conn_row_s {
    uint32_t id;
    bool admin;
    char peer[64];
    char user[MX_NAME_MAX];
    char schema[MX_NAME_MAX];
    uint8_t collation;
    uint64_t net_in, net_out, born_ms;
    uint32_t recv_buffer;
    uint64_t send_queue;
    char txlevel[24];
    bool autocommit, in_trans;
    uint8_t state;               /* mx_cl_state_t */
    uint32_t backend;            /* S-id linked, 0 none */
    char sql[MX_STATS_SQL_MAX];  /* statement in flight, "" none */
} mx_conn_row_t;

/* A backend connection as show @@backend shows it. */
typedef struct mx_backend_row_s {
    uint32_t id, thread_id;
    int host;                    /* slot */
    char host_name[MX_NAME_MAX];
    char ip[64];
    uint16_t port, local_port;
    uint64_t net_in, net_out, born_ms;
    bool borrowed;
    uint64_t send_queue;
    char schema[MX_NAME_MAX + 1];
    uint8_t collation;
    char txlevel[24];
    bool autocommit;
    uint8_t state;               /* mx_sv_state_t */
    uint32_t client;             /* C-id linked, 0 none */
} mx_backend_row_t;

/* A worker's totals, as of its last snapshot. */
typedef struct mx_worker_row_s {
    uint64_t net_in, net_out;    /* since start, every connection of the worker */
    uint64_t started, finished;  /* statements sent to a backend, and answered */
    uint32_t clients, backends, waiting, active;
    uint64_t send_queue;
    uint32_t bufs_used, bufs_free;
} mx_worker_row_t;

/* Per-worker statistics; mx_stats_new at worker init, freed at its end. */
mx_stats_t *mx_stats_new(int worker) __attribute__((warn_unused_result));
void mx_stats_free(mx_stats_t *s);

/* On the worker, from the client session code: a statement went to a
 * backend (payload: the client's command, `len` bytes at hand), and its
 * response finished.  No allocation; the digest only while digests are on.
 * statement_done returns false when the statement was not timed (no
 * response expected), else true with its duration in *us, which the
 * metrics endpoint's histogram takes as well (one clock for both). */
void mx_stats_statement_start(mx_client_t *cl, const uint8_t *payload, size_t len);
bool mx_stats_statement_done(mx_client_t *cl, const mx_resp_t *r, uint64_t *us);

/* On the worker's janitor tick (every 100 ms): rebuild the snapshot of its
 * sessions and backend connections, so that what the console shows is at
 * most one tick old.  Its cost grows with the connections: one walk, and a
 * getsockname() per backend for its local port. */
void mx_stats_publish(mx_worker_t *w);

/* From any thread (the console): settings shared by all workers. */
void mx_stats_set_slow_ms(uint32_t ms);
uint32_t mx_stats_slow_ms(void);
void mx_stats_set_digests(bool on);
bool mx_stats_digests(void);

/* The console's copies.  Each runs fn on every record of worker w under
 * w's stats lock (fn must not block or call back into stats). */
typedef void (*mx_stats_fn)(void *arg, const void *rec);
void mx_stats_each_sql(mx_worker_t *w, bool slow, mx_stats_fn fn, void *arg);
void mx_stats_each_digest(mx_worker_t *w, mx_stats_fn fn, void *arg);
void mx_stats_each_datanode(mx_worker_t *w, mx_stats_fn fn, void *arg);
void mx_stats_each_conn(mx_worker_t *w, mx_stats_fn fn, void *arg);
void mx_stats_each_backend(mx_worker_t *w, mx_stats_fn fn, void *arg);
void mx_stats_worker(mx_worker_t *w, mx_worker_row_t *out);
/* Forget every digest of worker w (reset @@digest). */
void mx_stats_reset_digests(mx_worker_t *w);

/* p99 of a latency histogram in microseconds (the upper edge of the
 * bucket holding it), 0 when empty. */
uint64_t mx_stats_p99(const uint32_t *hist);
/* Adds src's counters and histogram to dst (same hash). */
void mx_stats_merge_digest(mx_digest_rec_t *dst, const mx_digest_rec_t *src);

#endif
