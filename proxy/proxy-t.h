/* Types shared by the proxy's files: the process state, workers, the
 * connection I/O layer, client sessions, backend connections and pools.
 * Functions live in the per-role headers (conn.h, client.h, server.h...). */
#ifndef MX_PROXY_T_H
#define MX_PROXY_T_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>
#include <openssl/ssl.h>

#include "conf/conf.h"
#include "protocol/packet.h"
#include "protocol/resp.h"
#include "protocol/schemamap.h"
#include "router/health.h"

#include "list.h"

#define MX_BUF_SIZE (32 * 1024)    /* per active connection read buffer */
#define MX_ADMIN_MAX_SESSIONS 16   /* console sessions, on top of max_connections */

/* Pool flavours: how a backend connection was set up, bit by bit. */
#define MX_FLAVOR_FOUND_ROWS 0x1   /* CLIENT_FOUND_ROWS negotiated */
#define MX_FLAVOR_READ_ONLY  0x2   /* session set to READ ONLY (readonly users) */
#define MX_FLAVOR_IGNORE_SPACE 0x4 /* CLIENT_IGNORE_SPACE negotiated (`mariadb -i`: `count (*)`) */
#define MX_FLAVOR_NODB       0x8   /* for sessions without a database: never has one selected
                                    * (MySQL cannot unselect one: such a connection is closed) */
#define MX_FLAVOR_EXT_TYPES  0x10  /* MARIADB_CLIENT_EXTENDED_TYPE_INFO negotiated: column definitions differ */
#define MX_FLAVORS 32

/* mx_sstate_t.last_insert_id of a backend after a statement that may have
 * set it unseen (LAST_INSERT_ID(expr) in a SELECT): no session has it. */
#define MX_LID_UNKNOWN UINT64_MAX
#define MX_INTERNAL_NONE INT64_MIN         /* internal query returned no row */
#define MX_INTERNAL_NULL (INT64_MIN + 1)   /* ... or NULL */
#define MX_CLS_NONE 0xFF           /* statement not classified (nothing depended on it) */

/* A growable byte string on the heap (payloads over 16 MB included). */
typedef struct mx_bytes_s {
    uint8_t *data;
    size_t len, cap;
} mx_bytes_t;

typedef struct mx_worker_s mx_worker_t;
typedef struct mx_client_s mx_client_t;
typedef struct mx_server_s mx_server_t;
typedef struct mx_pool_s mx_pool_t;
typedef struct mx_stats_s mx_stats_t;

/* ---- the I/O layer both sides use -------------------------------------- */

typedef struct mx_conn_s mx_conn_t;

/* Which side of manx a connection is on: indexes the worker's byte
 * counters (mx_worker_t.bytes_in/bytes_out). */
enum { MX_SIDE_CLIENT, MX_SIDE_BACKEND, MX_SIDES };

/* The owner's event function (an MX_EV_* of conn.h).  The owner embeds the
 * connection and finds itself with MX_CONTAINER_OF, as libuv's users do. */
typedef void (*mx_conn_event_fn)(mx_conn_t *c, int ev);

/* A socket with its read buffer and optional TLS.  The read buffer exists
 * only while there is unprocessed input: idle connections own none. */
struct mx_conn_s {
    uv_tcp_t tcp;                /* handle.data points at this struct */
    mx_conn_event_fn on_event;   /* the owner (client.c, server.c), set at init */
    mx_worker_t *w;
    uint8_t *buf;                /* MX_BUF_SIZE bytes from the worker's freelist, or NULL */
    uint32_t rpos;               /* next byte not yet processed */
    uint32_t rend;               /* one past the last byte received */
    size_t wq_bytes;             /* bytes queued in libuv, not yet written */
    bool reading;                /* uv_read_start is in effect */
    bool closing;                /* uv_close was called */
    bool eof;                    /* peer closed or read failed */
    SSL *ssl;                    /* TLS session, or NULL */
    BIO *rbio, *wbio;            /* memory BIOs between OpenSSL and the socket */
    bool tls_done;               /* TLS handshake finished */
    uint8_t side;                /* MX_SIDE_*: which of the worker's byte counters this one adds to */
    uint64_t bytes_in, bytes_out;  /* on the wire (TLS included), for the console */
    uint64_t born_ms;            /* uv_now at init */
};

/* ---- session state that must follow a client across backends ------------ */

typedef struct mx_var_s {
    char *name;                  /* lower case, heap */
    char *value;                 /* heap */
} mx_var_t;

typedef struct mx_sstate_s {
    char db[MX_NAME_MAX + 1];    /* real database name; "" = none selected */
    uint8_t collation;           /* from the handshake / SET NAMES replay */
    bool multi_stmt;             /* COM_SET_OPTION state */
    uint64_t last_insert_id;     /* LAST_INSERT_ID() of this connection, MX_LID_UNKNOWN */
    mx_var_t *vars;              /* session variables set since login */
    uint32_t n_vars, cap_vars;
} mx_sstate_t;

/* ---- prepared statements -------------------------------------------------- */

/* A statement as the client knows it. */
typedef struct mx_stmt_s {
    uint32_t vid;                /* the id manx gave the client */
    uint32_t hash;               /* of sql */
    char *sql;                   /* the prepared text, heap */
    uint32_t sql_len;
    uint16_t n_params;
    uint8_t cls;                 /* mx_sql_class_t: where EXECUTE may run */
    uint64_t flags;              /* MX_SQLF_* of the text (router/classify.h) */
    bool has_types;              /* types holds what the last EXECUTE bound */
    uint8_t *types;              /* 2 bytes per parameter, heap */
    uint64_t digest;             /* its digest (proxy/stats.c), 0 until the first EXECUTE */
} mx_stmt_t;

/* A statement prepared on one backend connection. */
typedef struct mx_sstmt_s {
    uint32_t hash;
    char *sql;                   /* heap copy */
    uint32_t sql_len;
    uint32_t backend_id;         /* the server's statement id */
    uint16_t n_params;
    bool has_types;              /* types: what the server last received */
    uint8_t *types;
    uint64_t last_used;
    char coll[64];               /* collation_connection it was prepared under: literals keep it */
} mx_sstmt_t;

/* ---- backend connections ------------------------------------------------ */

typedef enum {
    SV_CONNECTING,  /* on pool->connecting; TCP connect in progress; client NULL */
    SV_AUTH,        /* on pool->connecting; handshake/auth exchange; client NULL */
    SV_SETUP,       /* on pool->connecting; session tracking SET in flight; client NULL */
    SV_IDLE,        /* on pool->idle[flavor]; client NULL; owner: last user, or NULL when clean */
    SV_ACTIVE,      /* on pool->active; client set (linked both ways) */
    SV_RESET,       /* on pool->active; COM_RESET_CONNECTION + setup after a dirty release; client NULL */
    SV_KILL,        /* on pool->active; running KILL QUERY for another session; client NULL */
    SV_CLOSED,      /* on no list; uv_close pending, freed in close callback */
} mx_sv_state_t;

struct mx_server_s {
    mx_conn_t conn;
    mx_list_t link;              /* on one of the pool's lists, per state */
    mx_sv_state_t state;
    mx_pool_t *pool;
    mx_client_t *client;         /* linked session while SV_ACTIVE */
    uint32_t id;                 /* S-<id> in logs */
    uint32_t backend_thread_id;  /* from the handshake */
    uint32_t caps;               /* negotiated with the backend */
    uint32_t ext_caps;           /* MX_MARIADB_* negotiated with the backend */
    uint8_t flavor;              /* MX_FLAVOR_* bits */
    uint32_t owner;              /* key (mx_user_t.key) of the manx user whose session last used it;
                                  * 0 when fresh or reset.  A key, not a pointer: it outlives reloads */
    uint32_t globals_gen;        /* mx_proc.globals_gen when its session defaults were read (setup, reset) */
    uint8_t scramble[MX_SCRAMBLE_LEN];
    uint8_t auth_step;           /* caching_sha2 progress */
    bool auth_sha2;              /* current auth plugin is caching_sha2 */
    mx_sstate_t st;              /* what the backend session currently holds */
    uint32_t synced_id;          /* id of the session whose state st equals */
    uint32_t synced_version;     /* that session's state version at sync */
    bool internal;               /* the response in flight is manx's own */
    int64_t internal_val;        /* first value of its first row (MX_INTERNAL_*) */
    char internal_str[64];       /* ... the same as text ("" for NULL or when longer) */
    mx_resp_t resp;              /* tracker for internal responses */
    uint8_t reset_step;          /* SV_RESET progress */
    uint64_t used_at;            /* uv_now of last release */
    uv_timer_t timer;            /* connect timeout */
    mx_pktbuf_t out;             /* packets manx builds for this backend */
    mx_sstmt_t *sstmts;          /* statements prepared on this connection */
    uint32_t n_sstmts, cap_sstmts;
    uint64_t stmt_clock;         /* LRU clock for sstmts */
    uint32_t close_ids[64];      /* evicted or duplicate statements to COM_STMT_CLOSE */
    uint32_t n_close;
    bool needs_reset;            /* close_ids overflowed: reset before reuse */
    bool lost_read_only;         /* a READ ONLY flavour session was made read-write: never reuse */
};

/* Pool of one host on one worker.  Shared-nothing: only its worker touches it. */
struct mx_pool_s {
    mx_worker_t *w;
    mx_config_t *cfg;            /* generation host, dh and the account point into (a reference);
                                  * NULL once a retired pool is empty */
    const mx_host_t *host;
    const mx_datahost_t *dh;
    int acct;                    /* backend account slot (cfg->accounts): 0 = the host's user */
    bool retired;                /* host (or account) not in the worker's generation: draining */
    mx_list_t idle[MX_FLAVORS];  /* SV_IDLE, by flavour; LIFO */
    mx_list_t active;            /* SV_ACTIVE and SV_RESET */
    mx_list_t connecting;        /* SV_CONNECTING/AUTH/SETUP */
    mx_list_t waiters;           /* clients in CL_WAIT_POOL, FIFO */
    int n_total;                 /* all servers of this pool not yet closed */
    int n_waiting;               /* clients on `waiters` */
    int n_busy;                  /* servers on `active` (outstanding requests) */
    uint64_t n_reads, n_writes, n_errors; /* statements routed here, and ERR answers */
    int max;                     /* max_con: the limit over all workers */
    int min;                     /* this worker's share of min_con */
    uint64_t connect_failures;
    char last_error[160];
    uint32_t down_gen;           /* health down_gen last acted upon */
    uint32_t kill_tids[8];       /* KILL QUERY waiting for a connection */
    int n_kill;
    /* Published by the owning worker every janitor tick for the admin
     * console (other threads read only these). */
    _Atomic int pub_busy, pub_idle, pub_total, pub_waiting;
    _Atomic uint64_t pub_reads, pub_writes, pub_errors, pub_connect_failures;
};

/* ---- client sessions ---------------------------------------------------- */

/* A session's entry in the registry (registry.c); its fields are written and
 * read under the registry's lock only. */
typedef struct mx_reg_node_s {
    struct mx_reg_node_s *next;  /* in its bucket */
    uint32_t id;
    int worker;
    uint32_t user_key;           /* the logged-in user's key (mx_user_t.key: kept across reloads
                                  * by name, never a pointer into a config a reload frees); 0 before login */
    uint32_t slot;               /* user key whose session slot (proxy/access.h) it holds; 0 none */
    uint32_t pending;            /* slot taken by a login not finished yet; 0 none */
    bool admin;
    bool linked;
} mx_reg_node_t;

typedef enum {
    CL_TLS,         /* on w->clients; TLS handshake after SSLRequest; server NULL */
    CL_LOGIN,       /* on w->clients; handshake sent, waiting for the response; server NULL */
    CL_AUTH_MORE,   /* on w->clients; auth switch / caching_sha2 exchange; server NULL */
    CL_IDLE,        /* on w->clients; no command in flight; server NULL unless pinned */
    CL_WAIT_POOL,   /* on w->clients and pool->waiters; command buffered; server NULL */
    CL_REPLAY,      /* on w->clients; server linked, replaying session state */
    CL_ACTIVE,      /* on w->clients; command forwarded, response streaming; server linked */
    CL_INFILE,      /* on w->clients; forwarding LOCAL INFILE data; server linked */
    CL_CLOSED,      /* on no list; uv_close pending, freed in close callback */
} mx_cl_state_t;

struct mx_client_s {
    mx_conn_t conn;
    mx_list_t link;              /* w->clients */
    mx_reg_node_t reg;           /* in the session registry from accept to close */
    mx_list_t wait_link;         /* pool->waiters while CL_WAIT_POOL */
    mx_cl_state_t state;
    mx_config_t *cfg;            /* generation this session uses (a reference); moves to the
                                  * worker's at a statement while no backend is pinned */
    uint32_t id;                 /* C-<id>; also the connection id clients see */
    char peer[64];               /* "127.0.0.1:51234" */
    char user_name[MX_NAME_MAX];
    const mx_user_t *user;
    int acct;                    /* the user's backend account slot (cfg->accounts) */
    const mx_schema_t *schema;   /* current logical schema, NULL if none */
    uint32_t caps;               /* negotiated with the client */
    uint32_t ext_caps;           /* MX_MARIADB_*: offered in the greeting, then negotiated */
    uint8_t scramble[MX_SCRAMBLE_LEN];
    uint8_t auth_step;
    bool auth_sha2;
    bool tls;
    bool admin;                  /* a session of the admin console */

    mx_sstate_t st;              /* state to replay on any backend */
    uint32_t st_version;         /* bumped whenever st changes */
    uint16_t status;             /* server status flags last seen */
    mx_stmt_t *vstmts;           /* prepared statements, ids given by manx */
    uint32_t n_vstmts, cap_vstmts, next_vid;
    mx_stmt_t *cur_stmt;         /* statement of the command in flight (valid during it) */
    char *prep_sql;              /* text of the COM_STMT_PREPARE in flight, heap */
    uint32_t prep_len;
    bool long_data_pin;          /* long data sent: the EXECUTE must run on the same backend */
    bool cursor_open;            /* an EXECUTE opened a cursor not yet fetched to its end */
    mx_sstate_t pending_uv;      /* user variables the SET in flight assigns (name without @ = literal) */
    bool uv_ok;                  /* ... and that SET can be replayed (literal values only) */
    bool sticky;                 /* user vars / temp tables / locks: keep backend */
    bool pin_next;               /* keep the backend for one more statement */
    bool trx_chars;              /* SET TRANSACTION pending for the next transaction (tracked): keep backend */
    uint8_t lex_unknown;         /* MX_LEX_SQL_MODE_UNKNOWN / LEX_CHARSET_UNKNOWN: set in a way the server did not report */
    uint8_t reported;            /* what the response in flight reported: LEX_* bits of client.c */
    bool learning;               /* CL_REPLAY after a statement: asking the backend its collation */
    struct {                     /* COM_CHANGE_USER in progress: who the session was, restored on failure */
        bool active;
        const mx_user_t *user;
        char user_name[MX_NAME_MAX];
        const mx_schema_t *schema;
        char db[MX_NAME_MAX + 1];
        uint8_t charset;         /* the collation id COM_CHANGE_USER asked for, 0 none */
    } cu;

    mx_server_t *server;         /* linked backend, or NULL */
    mx_pool_t *want;             /* pool the buffered command waits for */

    /* Reading commands (see "reading commands" in client.c): the command
     * in hand starts at conn.rpos unless it was assembled in `big`. */
    uint64_t in_skip;            /* bytes of a dropped command still to discard */
    bool in_skip_cont;           /* ... and it goes on past a 0xFFFFFF packet */
    mx_bytes_t big;              /* payload of a command too big for the read buffer */
    bool big_filling;            /* big is being assembled */
    bool big_ready;              /* big holds the whole command in hand */
    uint32_t big_off;            /* payload starts at big.data + big_off (a hint cut off) */
    uint32_t big_left;           /* bytes of the packet being copied still to come */
    bool big_cont;               /* that packet is 0xFFFFFF long: another follows */
    uint8_t timer_kind;          /* what cl->timer currently measures (CT_*) */

    /* The command in flight. */
    uint8_t cmd;
    uint64_t qflags;             /* MX_SQLF_* of the statement text in flight (and MX_QF_* bits of client.c) */
    uint8_t cls;                 /* mx_sql_class_t of the command, MX_CLS_NONE if not classified */
    bool routed_read;            /* sent to a read host by balance */
    mx_bytes_t rewrite;          /* payload of the command as manx rewrote it, or empty */
    bool need_gtid_wait;         /* consistency = session: replica must reach last_gtid first */
    bool force_writer;           /* that wait failed: this command reads from the writer */
    char last_gtid[64];          /* GTID of the session's last write (session tracking) */
    char gtid_ok[64];            /* last_gtid a replica was seen to have ... */
    int gtid_ok_host;            /* ... and which host (config index), -1 none */
    uint64_t fwd_left;           /* client bytes still to forward for this command */
    bool fwd_cont;               /* the command continues past a 0xFFFFFF packet */
    mx_resp_t resp;              /* tracking the backend's response */
    uint64_t skip_left;          /* response bytes of a large packet still to pass */
    uint8_t next_seq;            /* sequence id after the last response packet */
    bool rewrite_ok;             /* client lacks SESSION_TRACK: re-encode OK packets */
    bool state_change;           /* response carried a STATE_CHANGE entry */
    bool state_known;            /* ... and also schema / variable entries */
    uint8_t replay_step;

    /* Logical schema names (protocol/schemamap.h): the user's schemas
     * whose database has another name; n_smap == 0: nothing to map. */
    mx_smap_pair_t *smap;
    size_t n_smap;
    mx_smap_rs_t *smap_rs;       /* columns of the result set in flight */
    mx_pktbuf_t smap_out;        /* a response packet with names mapped */

    uv_timer_t timer;            /* pool wait / idle timeout */
    uint64_t queries;
    struct {                     /* the statement in flight, for the console (proxy/stats.c) */
        uint64_t start_ns;       /* uv_hrtime when it went to a backend; 0 none */
        uint64_t id;             /* its entry in the worker's ring of recent statements, 0 none */
        uint64_t digest;         /* its digest, 0 none */
        uint16_t digest_slot;    /* ... and the worker's slot it was counted in */
    } stat;
};

/* ---- counters for the metrics endpoint (proxy/metrics.h) ---------------- */

#define MX_LAT_BUCKETS 14          /* statement duration buckets below +Inf (mx_lat_bound_us in metrics.c) */
#define MX_ERR_SLOTS 64            /* distinct error codes counted per worker; the last slot is "other" */

/* Indices of mx_wstats_t.v. */
enum {
    MX_ST_STMT = 0,                            /* forwarded statements, [class * 2 + to_reader]: class is
                                                * mx_sql_class_t, or 3 for commands not classified */
    MX_ST_LAT = MX_ST_STMT + 8,                /* ... by duration: MX_LAT_BUCKETS + 1 (+Inf) buckets, not cumulative */
    MX_ST_LAT_SUM_US = MX_ST_LAT + MX_LAT_BUCKETS + 1, /* ... their total duration in microseconds */
    MX_ST_ACCEPTED,                            /* client connections accepted (console apart) */
    MX_ST_N
};

/* A worker's counters.  Only the worker writes the plain fields; its
 * janitor copies them (and the worker's byte counters) into the pub_*
 * atomics every tick, which are all other threads (the metrics endpoint)
 * read, as with the pools' pub_*. */
typedef struct mx_wstats_s {
    uint64_t v[MX_ST_N];
    uint16_t err_code[MX_ERR_SLOTS];           /* 0 = slot free; a slot keeps its code for good */
    uint64_t err_n[MX_ERR_SLOTS][2];           /* ERR packets sent to clients: [from a backend, from manx] */
    _Atomic uint64_t pub_v[MX_ST_N];
    _Atomic uint16_t pub_err_code[MX_ERR_SLOTS];
    _Atomic uint64_t pub_err_n[MX_ERR_SLOTS][2];
    _Atomic uint64_t pub_bytes[MX_SIDES][2];    /* the worker's bytes_in, bytes_out by side (conn.c counts them) */
} mx_wstats_t;

/* ---- workers and the process -------------------------------------------- */

struct mx_worker_s {
    int index;
    uv_loop_t loop;
    uv_thread_t thread;
    uv_async_t wakeup;           /* main -> worker: stop */
    uv_tcp_t listener;
    uv_tcp_t admin_listener;     /* worker 0 only, when admin_listen is set */
    bool has_admin;
    uv_os_sock_t listen_fd;
    uv_timer_t janitor;          /* pool upkeep, shutdown deadline */
    mx_list_t clients;
    mx_config_t *cfg;            /* this worker's generation (a reference): new sessions take it */
    _Atomic(mx_config_t *) next_cfg; /* main -> worker: a reloaded generation to adopt (a reference) */
    uv_async_t gen_async;        /* ... and its wake-up */
    /* Pools by [host slot * MX_MAX_ACCOUNTS + account slot], created by
     * this worker when a generation names them and kept to the end (other
     * threads read their pub_* counters through these pointers). */
    _Atomic(mx_pool_t *) *pools;
    mx_pool_t **pool_list;       /* the same pools, for this worker's walks */
    size_t n_pools;
    uint8_t **buf_free;          /* freelist of MX_BUF_SIZE buffers */
    size_t n_buf_free, cap_buf_free;
    uint8_t tls_scratch[64 * 1024];
    bool stopping;
    bool finished;               /* pools and timers closed */
    uint64_t stop_deadline;
    bool *sha2_cached;           /* by user key: full auth done once */
    uint32_t n_sha2;             /* keys sha2_cached holds (1..n_sha2-1) */
    unsigned rr;                 /* round-robin cursor for equal read hosts */
    uv_async_t kill_async;       /* other workers -> this one: KILL requests */
    uv_mutex_t kill_lock;        /* guards kills[] */
    struct { uint32_t id; bool query_only; } kills[64];
    int n_kills;
    uint32_t n_clients;
    _Atomic uint32_t pub_clients;  /* n_clients, published for the console */
    uint64_t bytes_in[MX_SIDES], bytes_out[MX_SIDES]; /* all of this worker's connections by side, since start (conn.c) */
    mx_stats_t *stats;           /* statements and snapshots for the console (stats.h) */
    mx_wstats_t wstats;          /* statement, error and byte counters for the metrics endpoint (metrics.h) */
    uv_async_t console_async;    /* worker 0 with a console: the main thread answered a request */
};

/* A console request the main thread runs (reload @@config): posted by the
 * console on worker 0, run on the main loop, answered back to worker 0. */
typedef struct mx_console_req_s {
    uv_mutex_t lock;             /* guards the fields below */
    uv_async_t *main_wakeup;     /* the main loop's wake-up; NULL before start and from shutdown on */
    uint32_t client;             /* console session waiting for the answer, 0 none */
    bool all;                    /* reload @@config_all: dnindex.properties too */
    bool done, ok;               /* the main thread ran it, and how it went */
    char err[1024];              /* why not: "file:line: key: reason" */
} mx_console_req_t;

/* The one struct that holds the process's mutable state. */
typedef struct mx_proc_s {
    mx_config_t *cfg;            /* the start-up generation, alive to the end: only for keys a reload
                                  * may not change (listen, workers, ssl_*, [admin]...) */
    mx_config_t *cur;            /* the newest generation; main thread only */
    mx_worker_t *workers;
    int n_workers;
    SSL_CTX *server_tls;         /* for clients, NULL without ssl_cert */
    SSL_CTX *client_tls;         /* for backends with ssl = true */
    void *rsa_key;               /* EVP_PKEY* for caching_sha2 RSA exchange */
    char *rsa_pub_pem;
    size_t rsa_pub_pem_len;
    mx_health_t health;          /* heartbeat thread, host states, active writeHosts */
    _Atomic uint32_t next_client_id;
    _Atomic uint32_t next_server_id;
    _Atomic int n_clients;       /* all workers, for max_connections (console sessions apart) */
    _Atomic int n_admin;         /* console sessions, at most MX_ADMIN_MAX_SESSIONS */
    _Atomic int *host_conns;     /* per host slot: backend connections, all workers */
    _Atomic int *host_waiters;   /* per host slot: clients waiting, all workers */
    mx_user_t admin_user;        /* [admin] as a user the login code understands */
    int admin_fd;                /* listening socket of the console, -1 none */
    struct mx_metrics_s *metrics; /* the HTTP endpoint on the main loop (metrics.c), NULL when off */
    uint64_t started_ms;         /* uv_hrtime() / 1e6 at start-up */
    _Atomic bool schemas_renamed; /* some schema's name differs from its database (any generation) */
    char server_version[96];     /* announced to clients */
    _Atomic bool version_known;
    _Atomic uint32_t backend_version;  /* lowest version id a backend announced (10.11.6 = 101106); 0 unknown */
    _Atomic bool backend_mariadb;      /* ... and the backends are MariaDB */
    _Atomic uint8_t backend_collation; /* the collation backends greet with (their character_set_server); 0 unknown */
    _Atomic uint32_t backend_ext_caps; /* MX_MARIADB_* every backend handshake so far offered, | MX_EXT_KNOWN once one was seen */
    _Atomic uint8_t sql_mode_default;  /* MX_LEX_* bits of the backends' default sql_mode, | 0x80 once known */
    _Atomic uint32_t globals_gen;      /* bumped by every SET GLOBAL through manx: older connections reset */
    _Atomic bool offline;        /* console `offline`: new client connections are refused (not the console's) */
    _Atomic uint64_t reload_ms;  /* wall clock of the last good reload (start-up at first) */
    mx_console_req_t console;    /* reload requests from the console */
} mx_proc_t;

/* backend_ext_caps: some backend's greeting was seen (not a MariaDB capability:
 * bit 31 of the upper word is unassigned). */
#define MX_EXT_KNOWN (1u << 31)

extern mx_proc_t mx_proc;

#endif
