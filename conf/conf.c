/* Loads manx.ini into an immutable mx_config_t.  One table, mx_params[],
 * describes every key; it drives parsing, defaults, validation, the reload
 * check, `show @@sysparam` and conf/config-reference.md.  inih splits lines;
 * our own line reader counts them and opens sections, so that every error
 * can name file:line.
 *
 * One file over the 1,200-line mark on purpose: the parser, the reload
 * check, `show @@sysparam` and the reference all read mx_params[] and the
 * section kinds, and the table is the point.  If config generations (issue
 * 10 item 7) grow it further, the reporting half (format_value() to the
 * end) is the part to move to a file of its own (tests/sizes.allow). */
#include "conf.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <ini.h>
#include <openssl/evp.h>

#define MX_CONF_MAX_FILE (16u << 20)
#define MX_MAX_WORKERS   64

/* Section kinds; [manx] and [admin] are singletons stored in mx_config_t
 * itself, the others are arrays of named objects. */
enum { S_MANX, S_ADMIN, S_USER, S_SCHEMA, S_DATANODE, S_DATAHOST, S_HOST, S__COUNT };

typedef enum {
    T_STR,      /* char[] */
    T_SECRET,   /* char[], never printed */
    T_PATH,     /* char[], made absolute against the config file's directory */
    T_INT,      /* int in [min, max], or one of `choices` */
    T_ENUM,     /* int: index of the value in `choices` */
    T_BOOL,     /* bool */
    T_MS,       /* int milliseconds: "500ms", "5s", "2m" or plain ms */
    T_SIZE,     /* uint32_t bytes: plain or with K/M/G */
    T_LISTEN,   /* char[] "ip:port" to bind */
    T_ADDR,     /* mx_host_t address, ip and port */
    T_USER_PW,  /* mx_user_t password + has_password */
    T_HASH,     /* mx_user_t stage2 from "*HEX" */
    T_REF,      /* pointer to a named object of kind `target` */
    T_LIST,     /* array of such pointers, count at `count_off` */
    T_HOSTS,    /* mx_user_t hosts[][MX_HOST_PATTERN_MAX], count at `count_off` */
} mx_ptype_t;

#define F_REQUIRED 0x1u  /* must be given (and not empty) */
#define F_READABLE 0x2u  /* a path that must name a readable file */
#define F_EMPTY_OK 0x4u  /* T_LISTEN: empty disables */

typedef struct mx_param_s {
    int sect;                 /* S_* */
    const char *key;
    mx_ptype_t type;
    size_t off;               /* offsetof the field in its section's struct */
    size_t size;              /* sizeof the field */
    bool reload;              /* may change on reload without a restart */
    const char *def;          /* default as it would be written; NULL = none */
    long long min, max;       /* T_INT, T_MS, T_SIZE */
    const char *choices;      /* "a|b|c" for T_ENUM, T_STR, T_INT */
    unsigned flags;           /* F_* */
    int target;               /* T_REF, T_LIST: S_* of the named objects */
    size_t count_off;         /* T_LIST: offsetof the size_t count */
    const char *help;
} mx_param_t;

#define FLD(type, f) offsetof(type, f), sizeof(((type *)0)->f)
#define CF(f) FLD(mx_config_t, f)
#define UF(f) FLD(mx_user_t, f)
#define SF(f) FLD(mx_schema_t, f)
#define NF(f) FLD(mx_datanode_t, f)
#define DF(f) FLD(mx_datahost_t, f)
#define HF(f) FLD(mx_host_t, f)

static const mx_param_t mx_params[] = {
    {S_MANX, "listen", T_LISTEN, CF(listen), false, "0.0.0.0:8066",
     .help = "address:port for client connections"},
    {S_MANX, "admin_listen", T_LISTEN, CF(admin_listen), false, "127.0.0.1:9066",
     .flags = F_EMPTY_OK, .help = "address:port for the admin console; empty disables it"},
    {S_MANX, "metrics_listen", T_LISTEN, CF(metrics_listen), false, "",
     .flags = F_EMPTY_OK, .help = "address:port for HTTP GET /metrics (Prometheus), / (status page) and /status.json, served by the main thread; empty (the default) disables it. Unauthenticated: bind it to loopback or a management network"},
    {S_MANX, "workers", T_INT, CF(workers), false, "0", 0, MX_MAX_WORKERS,
     .help = "worker threads; 0 = one per CPU"},
    {S_MANX, "state_dir", T_PATH, CF(state_dir), false, "./state",
     .help = "directory for dnindex.properties (the active writeHost of each dataHost), created if missing; manx refuses to start when it cannot create it or write a file in it, because a switch-over it could not persist would be undone by the next restart"},
    {S_MANX, "log_level", T_ENUM, CF(log_level), true, "info",
     .choices = "error|warning|info|debug", .help = "least severe level logged"},
    {S_MANX, "max_connections", T_INT, CF(max_connections), true, "10000", 1, 1000000,
     .help = "client connections over all workers"},
    {S_MANX, "max_packet", T_SIZE, CF(max_packet), true, "64M", 1024, 1024LL << 20,
     .help = "max_allowed_packet for clients (bytes, K, M or G)"},
    {S_MANX, "connect_timeout", T_MS, CF(connect_timeout_ms), true, "5000", 1, 3600000,
     .help = "backend connect and authentication"},
    {S_MANX, "pool_wait_timeout", T_MS, CF(pool_wait_timeout_ms), true, "5000", 1, 3600000,
     .help = "how long a client waits for a pooled backend connection"},
    {S_MANX, "client_idle_timeout", T_MS, CF(client_idle_timeout_ms), true, "0", 0, INT_MAX,
     .help = "close idle client connections after this; 0 = never"},
    {S_MANX, "net_read_timeout", T_MS, CF(net_read_timeout_ms), true, "30s", 1, 3600000,
     .help = "close a client that stops sending in the middle of a packet for this long"},
    {S_MANX, "strict_schemas", T_BOOL, CF(strict_schemas), true, "false",
     .help = "default of [user] strict_schemas"},
    {S_MANX, "max_login_failures", T_INT, CF(max_login_failures), true, "0", 0, 1000000,
     .help = "failed logins in a row from one address before it is locked out; 0 = no lockout"},
    {S_MANX, "login_lockout", T_MS, CF(login_lockout_ms), true, "60s", 1, 86400000,
     .help = "how long a locked-out address is refused (doubles while failures go on, at most 1 hour)"},
    {S_MANX, "shutdown_timeout", T_MS, CF(shutdown_timeout_ms), true, "10000", 0, 3600000,
     .help = "on SIGTERM, how long in-flight statements may run"},
    {S_MANX, "server_version", T_STR, CF(server_version), true, "",
     .help = "version announced to clients; empty = the backend's"},
    {S_MANX, "ssl_cert", T_PATH, CF(ssl_cert), false, "", .flags = F_READABLE,
     .help = "PEM certificate for client TLS; needs ssl_key"},
    {S_MANX, "ssl_key", T_PATH, CF(ssl_key), false, "", .flags = F_READABLE,
     .help = "PEM private key for client TLS; needs ssl_cert"},
    {S_MANX, "ssl_ca", T_PATH, CF(ssl_ca), false, "", .flags = F_READABLE,
     .help = "CA bundle to verify backends that have ssl = true"},
    {S_MANX, "require_secure_transport", T_BOOL, CF(require_secure_transport), true, "false",
     .help = "refuse clients without TLS; needs ssl_cert and ssl_key"},
    {S_MANX, "rsa_private_key", T_PATH, CF(rsa_private_key), false, "", .flags = F_READABLE,
     .help = "PEM RSA key for caching_sha2_password without TLS; empty = generated"},

    {S_MANX, "coordination", T_ENUM, CF(coordination), false, "none",
     .choices = "none|etcd|backend_locks",
     .help = "how several manx instances agree on each dataHost's active writeHost: none = each decides alone "
             "(dnindex.properties); etcd = one decider per dataHost elected in etcd, the writer kept in etcd; "
             "backend_locks = the decider is the instance holding GET_LOCK on a majority of the writeHosts it can reach"},
    {S_MANX, "etcd_endpoints", T_STR, CF(etcd_endpoints), false, "",
     .help = "with coordination = etcd: comma-separated host:port (or http://host:port) of etcd's client URLs, "
             "tried in order"},
    {S_MANX, "etcd_prefix", T_STR, CF(etcd_prefix), false, "/manx",
     .help = "with coordination = etcd: keys live under <etcd_prefix>/<cluster_name>/"},
    {S_MANX, "cluster_name", T_STR, CF(cluster_name), false, "",
     .help = "with coordination = etcd or backend_locks: instances with the same name agree with each other"},
    {S_MANX, "instance_name", T_STR, CF(instance_name), false, "",
     .help = "this instance's name among them; empty = <hostname>:<listen port>; must be unique"},
    {S_MANX, "etcd_cacert", T_PATH, CF(etcd_cacert), false, "", .flags = F_READABLE,
     .help = "with coordination = etcd: PEM CA bundle that signed etcd's server certificate; endpoints without "
             "a scheme then use https"},
    {S_MANX, "etcd_cert", T_PATH, CF(etcd_cert), false, "", .flags = F_READABLE,
     .help = "with coordination = etcd: PEM client certificate for etcd's client-cert-auth; needs etcd_key"},
    {S_MANX, "etcd_key", T_PATH, CF(etcd_key), false, "", .flags = F_READABLE,
     .help = "with coordination = etcd: PEM private key of etcd_cert"},
    {S_MANX, "etcd_lease_ttl", T_MS, CF(etcd_lease_ttl_ms), false, "5s", 2000, 60000,
     .help = "with coordination = etcd: lease of this instance's keys; a crashed decider is replaced within it"},
    {S_MANX, "etcd_timeout", T_MS, CF(etcd_timeout_ms), false, "2s", 200, 60000,
     .help = "with coordination = etcd: no answer from any endpoint for this long and the instance is LOST "
             "(keeps the last agreed writer, never switches on its own)"},

    {S_ADMIN, "user", T_STR, CF(admin_user), false, "admin",
     .help = "admin console user"},
    {S_ADMIN, "password", T_SECRET, CF(admin_password), false, "",
     .help = "admin console password; empty refuses all logins"},

    {S_USER, "password", T_USER_PW, UF(password), true, NULL,
     .help = "clear-text password (one of password, password_hash)"},
    {S_USER, "password_hash", T_HASH, UF(stage2), true, NULL,
     .help = "mysql_native_password hash as in mysql.user (a star and 40 hex digits)"},
    {S_USER, "schemas", T_LIST, UF(schemas), true, NULL, .flags = F_REQUIRED,
     .target = S_SCHEMA, .count_off = offsetof(mx_user_t, n_schemas),
     .help = "comma-separated schemas the user may use"},
    {S_USER, "readonly", T_BOOL, UF(readonly), true, "false",
     .help = "refuse every statement not known to be read-only (see README, Security)"},
    {S_USER, "strict_schemas", T_BOOL, UF(strict_schemas), true, NULL,
     .help = "refuse statements naming a database outside the user's schemas; default [manx] strict_schemas"},
    {S_USER, "backend_user", T_STR, UF(backend_user), true, "",
     .help = "backend account this user's statements run as (e.g. one with SELECT grants only); empty = the host's user"},
    {S_USER, "backend_password", T_SECRET, UF(backend_password), true, "",
     .help = "password of backend_user"},
    {S_USER, "max_connections", T_INT, UF(max_connections), true, "0", 0, 1000000,
     .help = "sessions logged in as this user at once, over all workers (Mycat's benchmark); 0 = no limit; "
             "one more gets MySQL's error 1226"},
    {S_USER, "hosts", T_HOSTS, UF(hosts), true, "", .count_off = offsetof(mx_user_t, n_hosts),
     .help = "comma-separated client addresses the user may log in from (Mycat's whitehost): exact IPv4/IPv6, "
             "or IPv4 with * or % for a run of digits, a trailing one also matching further octets "
             "(127.0.0.*, 10.0.%); empty = any address"},
    {S_USER, "auth_plugin", T_STR, UF(auth_plugin), true, "mysql_native_password",
     .choices = "mysql_native_password|caching_sha2_password",
     .help = "plugin offered to the client; caching_sha2_password needs password"},

    {S_SCHEMA, "datanode", T_REF, SF(datanode), true, NULL, .flags = F_REQUIRED,
     .target = S_DATANODE, .help = "datanode holding the schema's tables"},
    {S_SCHEMA, "sql_max_limit", T_INT, SF(sql_max_limit), true, "0", 0, INT_MAX,
     .help = "LIMIT added to SELECTs without one; 0 = off"},

    {S_DATANODE, "datahost", T_REF, NF(datahost), true, NULL, .flags = F_REQUIRED,
     .target = S_DATAHOST, .help = "datahost serving this datanode"},
    {S_DATANODE, "database", T_STR, NF(database), true, NULL, .flags = F_REQUIRED,
     .help = "real database name on the backends"},

    {S_DATAHOST, "balance", T_INT, DF(balance), true, "1", 0, 3,
     .help = "reads: 0 writer only, 1 idle writers and readers, 2 all, 3 readers only"},
    {S_DATAHOST, "write_type", T_INT, DF(write_type), true, "0", 0, 1,
     .help = "0 = writes to the active write host, 1 = any write host"},
    {S_DATAHOST, "switch_type", T_INT, DF(switch_type), true, "1", .choices = "-1|1|2|3",
     .help = "-1 never switch, 1 switch on heartbeat failure, 2 and 3 as 1 plus replication checks"},
    {S_DATAHOST, "slave_threshold", T_INT, DF(slave_threshold), true, "100", 0, 1000000,
     .help = "seconds of replication lag above which a read host is skipped"},
    {S_DATAHOST, "max_con", T_INT, DF(max_con), true, "1000", 1, 100000,
     .help = "most pooled connections per host"},
    {S_DATAHOST, "min_con", T_INT, DF(min_con), true, "10", 0, 100000,
     .help = "idle connections kept open per host (<= max_con)"},
    {S_DATAHOST, "drop_reads_of_dead_writer", T_BOOL, DF(drop_reads_of_dead_writer), true, "false",
     .help = "Mycat's behaviour: readHosts of a writeHost that is down serve no reads, even when healthy"},
    {S_DATAHOST, "consistency", T_STR, DF(consistency), true, "eventual", .choices = "eventual|session",
     .help = "session: a read after a write in the same session sees it (replica waits for the GTID, else the writer)"},
    {S_DATAHOST, "consistency_timeout", T_MS, DF(consistency_timeout_ms), true, "1000", 1, 60000,
     .help = "with consistency = session: how long a replica may take to catch up before the writer serves the read"},
    {S_DATAHOST, "heartbeat", T_STR, DF(heartbeat), true, "select user()",
     .help = "statement the heartbeat runs"},
    {S_DATAHOST, "write_hosts", T_LIST, DF(write_hosts), true, NULL, .flags = F_REQUIRED,
     .target = S_HOST, .count_off = offsetof(mx_datahost_t, n_write_hosts),
     .help = "comma-separated hosts in failover order; index 0 starts active"},
    {S_DATAHOST, "heartbeat_period", T_MS, DF(heartbeat_period_ms), true, "1000", 100, 3600000,
     .help = "time between heartbeats"},
    {S_DATAHOST, "heartbeat_timeout", T_MS, DF(heartbeat_timeout_ms), true, "2000", 100, 600000,
     .help = "a heartbeat slower than this fails"},
    {S_DATAHOST, "heartbeat_retries", T_INT, DF(heartbeat_retries), true, "3", 1, 100,
     .help = "failed heartbeats in a row before a host is marked down"},
    {S_DATAHOST, "heartbeat_retry_interval", T_MS, DF(heartbeat_retry_interval_ms), true, "200", 10, 600000,
     .help = "time between heartbeats once one failed or a backend connection broke"},
    {S_DATAHOST, "heartbeat_rise", T_INT, DF(heartbeat_rise), true, "2", 1, 100,
     .help = "successful heartbeats in a row before a down host is up again"},
    {S_DATAHOST, "fence", T_ENUM, DF(fence), true, "none", .choices = "none|read_only",
     .help = "read_only: the instance that decides switches sets read_only = ON on writeHosts that are not "
             "the active one (at a switch, and whenever one reconnects) and OFF on the active one"},
    {S_DATAHOST, "rejoin_delay", T_MS, DF(rejoin_delay_ms), true, "30000", 0, 86400000,
     .help = "a host back up must stay up this long before writes may switch to it; when the active writeHost is down and such a host is the only candidate, writes move to it as soon as the delay ends"},

    {S_HOST, "address", T_ADDR, HF(address), true, NULL, .flags = F_REQUIRED,
     .help = "ip:port, [ipv6]:port or localhost:port"},
    {S_HOST, "user", T_STR, HF(user), true, NULL, .flags = F_REQUIRED,
     .help = "backend user"},
    {S_HOST, "password", T_SECRET, HF(password), true, "",
     .help = "backend password"},
    {S_HOST, "read_hosts", T_LIST, HF(read_hosts), true, "",
     .target = S_HOST, .count_off = offsetof(mx_host_t, n_read_hosts),
     .help = "comma-separated hosts reading on behalf of this write host"},
    {S_HOST, "weight", T_INT, HF(weight), true, "1", 1, 1000,
     .help = "relative share of reads"},
    {S_HOST, "ssl", T_BOOL, HF(ssl), true, "false",
     .help = "connect to this backend with TLS"},
};

#define MX_N_PARAMS (sizeof(mx_params) / sizeof(mx_params[0]))

/* Where each kind of section lives in mx_config_t. */
typedef struct {
    const char *name;
    bool named;               /* [user NAME] rather than [manx] */
    size_t arr_off, count_off, elem_size, line_off;
} mx_kind_t;

#define KIND(n, arr, type) {n, true, offsetof(mx_config_t, arr), offsetof(mx_config_t, n_##arr), \
                            sizeof(type), offsetof(type, line)}
static const mx_kind_t mx_kinds[S__COUNT] = {
    [S_MANX] = {"manx", false, 0, 0, 0, 0},
    [S_ADMIN] = {"admin", false, 0, 0, 0, 0},
    [S_USER] = KIND("user", users, mx_user_t),
    [S_SCHEMA] = KIND("schema", schemas, mx_schema_t),
    [S_DATANODE] = KIND("datanode", datanodes, mx_datanode_t),
    [S_DATAHOST] = KIND("datahost", datahosts, mx_datahost_t),
    [S_HOST] = KIND("host", hosts, mx_host_t),
};

/* One section as written in the file, with the keys it set. */
typedef struct {
    int kind;
    size_t index;             /* in its mx_config_t array */
    int line;                 /* of the header; 0 if [manx]/[admin] never appeared */
    uint64_t seen[2];         /* bit i: mx_params[i] was given */
    int key_line[MX_N_PARAMS];
} mx_sect_t;

/* A T_REF or T_LIST value, resolved once every section is known. */
typedef struct {
    const mx_param_t *p;
    size_t sect;              /* index in mx_parse_t.sects */
    int line;
    char *text;
} mx_ref_t;

typedef struct {
    mx_config_t *c;
    const char *file;         /* as given, for messages */
    const mx_conf_origin_t *origins; /* mx_conf_load_mapped: where each line came from */
    size_t n_origins;
    char dir[1024];           /* relative paths are resolved against this */
    const char *pos, *end;    /* the reader's cursor */
    int lineno;
    mx_sect_t *sects;
    size_t n_sects, cap_sects;
    long cur;                 /* current section in sects, -1 before the first */
    mx_ref_t *refs;
    size_t n_refs, cap_refs;
    size_t cap[S__COUNT];     /* allocated elements of each mx_config_t array */
    char *err;
    size_t errlen;
    bool failed;
} mx_parse_t;

_Static_assert(MX_N_PARAMS <= 128, "mx_sect_t.seen holds one bit per parameter");
_Static_assert(MX_N_PARAMS <= MX_CONF_MAX_PARAMS, "mx_config_t.key_line holds one line per parameter");

#define SEEN(s, i) (((s)->seen[(i) / 64] >> ((i) % 64)) & 1u)

/* Records the first error only: "FILE:LINE: KEY: REASON", "FILE: KEY:
 * REASON" for line 0, key may be NULL.  Returns false for `return fail()`. */
__attribute__((format(printf, 4, 5)))
static bool fail(mx_parse_t *st, int line, const char *key, const char *fmt, ...)
{
    if (st->failed)
        return false;
    st->failed = true;
    char reason[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof(reason), fmt, ap);
    va_end(ap);
    char where[32] = "";
    if (line > 0 && (size_t)line <= st->n_origins && st->origins[line - 1].file) {
        /* A translated line: name the place the user wrote. */
        const mx_conf_origin_t *o = &st->origins[line - 1];
        if (st->errlen)
            snprintf(st->err, st->errlen, "%s:%d: %s%s%s%s%s (INI line %d)", o->file, o->line,
                     o->what ? o->what : "", o->what ? ": " : "", key ? key : "", key ? ": " : "",
                     reason, line);
        return false;
    }
    if (line > 0)
        snprintf(where, sizeof(where), ":%d", line);
    if (st->errlen)
        snprintf(st->err, st->errlen, "%s%s: %s%s%s", st->file, where,
                 key ? key : "", key ? ": " : "", reason);
    return false;
}

static void *kind_array(const mx_config_t *c, int kind)
{
    void *arr;
    memcpy(&arr, (const char *)c + mx_kinds[kind].arr_off, sizeof(arr));
    return arr;
}

static size_t kind_count(const mx_config_t *c, int kind)
{
    size_t n;
    memcpy(&n, (const char *)c + mx_kinds[kind].count_off, sizeof(n));
    return n;
}

/* The struct a section's keys are stored in. */
static void *obj_base(const mx_config_t *c, int kind, size_t index)
{
    if (!mx_kinds[kind].named)
        return (void *)c;
    return (char *)kind_array(c, kind) + index * mx_kinds[kind].elem_size;
}

/* Every named object starts with char name[MX_NAME_MAX]. */
static const char *obj_name(const void *obj)
{
    return (const char *)obj;
}

static const char *sect_label(const mx_parse_t *st, const mx_sect_t *s, char *buf, size_t n)
{
    if (mx_kinds[s->kind].named)
        snprintf(buf, n, "[%s %s]", mx_kinds[s->kind].name,
                 obj_name(obj_base(st->c, s->kind, s->index)));
    else
        snprintf(buf, n, "[%s]", mx_kinds[s->kind].name);
    return buf;
}

static long find_object(const mx_config_t *c, int kind, const char *name, size_t len)
{
    size_t n = kind_count(c, kind);
    for (size_t i = 0; i < n; i++) {
        const char *on = obj_name(obj_base(c, kind, i));
        if (strlen(on) == len && memcmp(on, name, len) == 0)
            return (long)i;
    }
    return -1;
}

/* Index of the value in "a|b|c", or -1. */
static int choice_index(const char *choices, const char *v)
{
    size_t vl = strlen(v);
    int i = 0;
    for (const char *p = choices;; i++) {
        const char *bar = strchr(p, '|');
        size_t l = bar ? (size_t)(bar - p) : strlen(p);
        if (l == vl && strncasecmp(p, v, l) == 0)
            return i;
        if (!bar)
            return -1;
        p = bar + 1;
    }
}

/* "a|b|c" as "a, b, c" (or the i-th choice alone when i >= 0). */
static void choice_text(const char *choices, int i, char *out, size_t n)
{
    size_t o = 0;
    int k = 0;
    out[0] = '\0';
    for (const char *p = choices; *p && o + 3 < n; p++) {
        if (*p == '|') {
            k++;
            if (i < 0) {
                out[o++] = ',';
                out[o++] = ' ';
            }
        } else if (i < 0 || k == i) {
            out[o++] = *p;
        }
    }
    out[o] = '\0';
}

static bool parse_ll(const char *v, long long *out)
{
    if (!*v || isspace((unsigned char)*v))
        return false;
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (errno || *end)
        return false;
    *out = x;
    return true;
}

/* "500ms", "5s", "2m" or plain milliseconds. */
static bool parse_ms(const char *v, long long *out)
{
    if (!isdigit((unsigned char)*v))
        return false;
    char *end;
    errno = 0;
    unsigned long long x = strtoull(v, &end, 10);
    if (errno || x > LLONG_MAX / 60000)
        return false;
    if (*end == '\0' || strcasecmp(end, "ms") == 0)
        *out = (long long)x;
    else if (strcasecmp(end, "s") == 0)
        *out = (long long)x * 1000;
    else if (strcasecmp(end, "m") == 0)
        *out = (long long)x * 60000;
    else
        return false;
    return true;
}

/* Bytes, optionally with K, M or G (powers of 1024), optionally + "B". */
static bool parse_size(const char *v, long long *out)
{
    if (!isdigit((unsigned char)*v))
        return false;
    char *end;
    errno = 0;
    unsigned long long x = strtoull(v, &end, 10);
    if (errno || x > (1ULL << 40))
        return false;
    int shift = 0;
    switch (toupper((unsigned char)*end)) {
    case 'K': shift = 10; end++; break;
    case 'M': shift = 20; end++; break;
    case 'G': shift = 30; end++; break;
    default: break;
    }
    if (toupper((unsigned char)*end) == 'B')
        end++;
    if (*end)
        return false;
    *out = (long long)(x << shift);
    return true;
}

static void format_size(long long v, char *out, size_t n)
{
    if (v && v % (1LL << 30) == 0)
        snprintf(out, n, "%lldG", v >> 30);
    else if (v && v % (1LL << 20) == 0)
        snprintf(out, n, "%lldM", v >> 20);
    else if (v && v % (1LL << 10) == 0)
        snprintf(out, n, "%lldK", v >> 10);
    else
        snprintf(out, n, "%lld", v);
}

static bool parse_bool(const char *v, bool *out)
{
    static const char *const yes[] = {"true", "yes", "on", "1"};
    static const char *const no[] = {"false", "no", "off", "0"};
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(v, yes[i]) == 0)
            return *out = true, true;
        if (strcasecmp(v, no[i]) == 0)
            return *out = false, true;
    }
    return false;
}

/* Splits "ip:port", "[v6]:port" or "localhost:port"; the ip must be
 * numeric because the proxy never blocks on DNS.  Returns NULL or why not. */
static const char *parse_hostport(const char *v, char *ip, size_t iplen, uint16_t *port)
{
    char host[256];
    const char *colon;
    if (v[0] == '[') {
        const char *rb = strchr(v, ']');
        if (!rb || rb[1] != ':')
            return "is not [ipv6]:port";
        if ((size_t)(rb - v - 1) >= sizeof(host))
            return "has a host part that is too long";
        memcpy(host, v + 1, (size_t)(rb - v - 1));
        host[rb - v - 1] = '\0';
        colon = rb + 1;
    } else {
        colon = strrchr(v, ':');
        if (!colon)
            return "is not host:port";
        if (memchr(v, ':', (size_t)(colon - v)))
            return "has an IPv6 address without brackets ([ipv6]:port)";
        if ((size_t)(colon - v) >= sizeof(host))
            return "has a host part that is too long";
        memcpy(host, v, (size_t)(colon - v));
        host[colon - v] = '\0';
    }
    long long p;
    if (!parse_ll(colon + 1, &p) || p < 1 || p > 65535)
        return "has no port in 1..65535";
    unsigned char bin[16];
    if (strcasecmp(host, "localhost") == 0)
        snprintf(host, sizeof(host), "127.0.0.1");
    else if (inet_pton(AF_INET, host, bin) != 1 && inet_pton(AF_INET6, host, bin) != 1)
        return "is not a numeric IPv4/IPv6 address or localhost";
    if (strlen(host) >= iplen)
        return "has a host part that is too long";
    strcpy(ip, host);
    *port = (uint16_t)p;
    return NULL;
}

static bool resolve_path(mx_parse_t *st, int line, const char *key, const char *v,
                         char *out, size_t n)
{
    int w;
    if (v[0] == '\0' || v[0] == '/') {
        w = snprintf(out, n, "%s", v);
    } else {
        while (v[0] == '.' && v[1] == '/')
            for (v += 2; *v == '/'; v++)
                ;
        if (strcmp(v, ".") == 0 || v[0] == '\0')
            w = snprintf(out, n, "%s", st->dir);
        else
            w = snprintf(out, n, "%s/%s", st->dir, v);
    }
    if (w < 0 || (size_t)w >= n)
        return fail(st, line, key, "path too long (max %zu bytes once resolved)", n - 1);
    return true;
}

static bool add_ref(mx_parse_t *st, const mx_param_t *p, int line, const char *v)
{
    if (st->n_refs == st->cap_refs) {
        size_t cap = st->cap_refs ? st->cap_refs * 2 : 16;
        mx_ref_t *r = realloc(st->refs, cap * sizeof(*r));
        if (!r)
            return fail(st, line, p->key, "out of memory");
        st->refs = r;
        st->cap_refs = cap;
    }
    char *text = strdup(v);
    if (!text)
        return fail(st, line, p->key, "out of memory");
    st->refs[st->n_refs++] = (mx_ref_t){p, (size_t)st->cur, line, text};
    return true;
}

/* One [user] hosts pattern: an exact address, or IPv4 digits and dots
 * with '*' or '%' wildcards (proxy/access.c matches them). */
static bool host_pattern_ok(const char *v, size_t n)
{
    char buf[MX_HOST_PATTERN_MAX];
    unsigned char bin[16];
    if (n == 0 || n >= sizeof(buf))
        return false;
    memcpy(buf, v, n);
    buf[n] = '\0';
    if (inet_pton(AF_INET, buf, bin) == 1 || inet_pton(AF_INET6, buf, bin) == 1)
        return true;
    bool wild = false;
    for (size_t i = 0; i < n; i++) {
        if (buf[i] == '*' || buf[i] == '%')
            wild = true;
        else if (!isdigit((unsigned char)buf[i]) && buf[i] != '.')
            return false;
    }
    return wild;
}

static bool set_hosts(mx_parse_t *st, const mx_param_t *p, void *obj, const char *v, int line)
{
    mx_user_t *u = obj;
    u->n_hosts = 0;
    if (v[0] == '\0')
        return true;
    for (const char *t = v;;) {
        const char *comma = strchr(t, ',');
        const char *e = comma ? comma : t + strlen(t);
        while (t < e && isspace((unsigned char)*t))
            t++;
        while (e > t && isspace((unsigned char)e[-1]))
            e--;
        if (e == t)
            return fail(st, line, p->key, "empty address in list");
        if (!host_pattern_ok(t, (size_t)(e - t)))
            return fail(st, line, p->key, "'%.*s' is neither an IPv4/IPv6 address nor an IPv4 pattern of digits, "
                        "dots, * and %%", (int)(e - t), t);
        if (u->n_hosts == MX_MAX_USER_HOSTS)
            return fail(st, line, p->key, "too many addresses (max %d)", MX_MAX_USER_HOSTS);
        memcpy(u->hosts[u->n_hosts], t, (size_t)(e - t));
        u->hosts[u->n_hosts++][e - t] = '\0';
        if (!comma)
            return true;
        t = comma + 1;
    }
}

/* Parses one value into its field, as the table says.  Defaults go
 * through here too, so they obey the same rules. */
static bool set_value(mx_parse_t *st, const mx_param_t *p, void *obj, const char *v, int line)
{
    char *field = (char *)obj + p->off;
    char range[96];
    long long x;
    bool b;
    const char *why;

    if ((p->flags & F_REQUIRED) && v[0] == '\0')
        return fail(st, line, p->key, "must not be empty");
    switch (p->type) {
    case T_STR:
    case T_SECRET:
        if (strlen(v) >= p->size)
            return fail(st, line, p->key, "value too long (max %zu bytes)", p->size - 1);
        if (p->choices && choice_index(p->choices, v) < 0) {
            choice_text(p->choices, -1, range, sizeof(range));
            return fail(st, line, p->key, "'%s' is not one of %s", v, range);
        }
        if (p->choices)
            choice_text(p->choices, choice_index(p->choices, v), field, p->size);
        else
            strcpy(field, v);
        return true;
    case T_PATH:
        if (!resolve_path(st, line, p->key, v, field, p->size))
            return false;
        if ((p->flags & F_READABLE) && field[0] && access(field, R_OK) != 0)
            return fail(st, line, p->key, "cannot read '%s': %s", field, strerror(errno));
        return true;
    case T_INT:
        if (p->choices) {
            choice_text(p->choices, -1, range, sizeof(range));
            if (!parse_ll(v, &x) || choice_index(p->choices, v) < 0)
                return fail(st, line, p->key, "'%s' is not one of %s", v, range);
        } else {
            snprintf(range, sizeof(range), "%lld..%lld", p->min, p->max);
            if (!parse_ll(v, &x))
                return fail(st, line, p->key, "'%s' is not an integer (%s)", v, range);
            if (x < p->min || x > p->max)
                return fail(st, line, p->key, "'%s' is out of range (%s)", v, range);
        }
        *(int *)field = (int)x;
        return true;
    case T_ENUM: {
        int i = choice_index(p->choices, v);
        if (i < 0) {
            choice_text(p->choices, -1, range, sizeof(range));
            return fail(st, line, p->key, "'%s' is not one of %s", v, range);
        }
        *(int *)field = i;
        return true;
    }
    case T_BOOL:
        if (!parse_bool(v, &b))
            return fail(st, line, p->key,
                        "'%s' is not a boolean (true/false, yes/no, on/off, 1/0)", v);
        *(bool *)field = b;
        return true;
    case T_MS:
        snprintf(range, sizeof(range), "%lldms..%lldms", p->min, p->max);
        if (!parse_ms(v, &x))
            return fail(st, line, p->key, "'%s' is not a duration (500ms, 5s, 2m or plain ms)", v);
        if (x < p->min || x > p->max)
            return fail(st, line, p->key, "'%s' is out of range (%s)", v, range);
        *(int *)field = (int)x;
        return true;
    case T_SIZE: {
        char lo[32], hi[32];
        format_size(p->min, lo, sizeof(lo));
        format_size(p->max, hi, sizeof(hi));
        if (!parse_size(v, &x))
            return fail(st, line, p->key, "'%s' is not a size (bytes, or with K, M, G)", v);
        if (x < p->min || x > p->max)
            return fail(st, line, p->key, "'%s' is out of range (%s..%s)", v, lo, hi);
        *(uint32_t *)field = (uint32_t)x;
        return true;
    }
    case T_LISTEN: {
        char ip[64];
        uint16_t port;
        if (v[0] == '\0' && (p->flags & F_EMPTY_OK)) {
            field[0] = '\0';
            return true;
        }
        if (strlen(v) >= p->size)
            return fail(st, line, p->key, "value too long (max %zu bytes)", p->size - 1);
        if ((why = parse_hostport(v, ip, sizeof(ip), &port)) != NULL)
            return fail(st, line, p->key, "'%s' %s", v, why);
        strcpy(field, v);
        return true;
    }
    case T_ADDR: {
        mx_host_t *h = obj;
        if (strlen(v) >= sizeof(h->address))
            return fail(st, line, p->key, "value too long (max %zu bytes)", sizeof(h->address) - 1);
        if ((why = parse_hostport(v, h->ip, sizeof(h->ip), &h->port)) != NULL)
            return fail(st, line, p->key, "'%s' %s", v, why);
        strcpy(h->address, v);
        return true;
    }
    case T_USER_PW: {
        mx_user_t *u = obj;
        if (strlen(v) >= sizeof(u->password))
            return fail(st, line, p->key, "value too long (max %zu bytes)", sizeof(u->password) - 1);
        strcpy(u->password, v);
        u->has_password = true;
        return true;
    }
    case T_HASH: {
        mx_user_t *u = obj;
        if (v[0] != '*' || strlen(v) != 41)
            return fail(st, line, p->key, "'%s' is not '*' followed by 40 hex digits", v);
        for (int i = 0; i < 20; i++) {
            unsigned hi, lo;
            char a = v[1 + 2 * i], c = v[2 + 2 * i];
            if (!isxdigit((unsigned char)a) || !isxdigit((unsigned char)c))
                return fail(st, line, p->key, "'%s' is not '*' followed by 40 hex digits", v);
            hi = isdigit((unsigned char)a) ? (unsigned)(a - '0') : (unsigned)(tolower(a) - 'a' + 10);
            lo = isdigit((unsigned char)c) ? (unsigned)(c - '0') : (unsigned)(tolower(c) - 'a' + 10);
            u->stage2[i] = (uint8_t)(hi << 4 | lo);
        }
        return true;
    }
    case T_REF:
    case T_LIST:
        /* Sections may be referenced before they appear in the file. */
        return v[0] == '\0' || add_ref(st, p, line, v);
    case T_HOSTS:
        return set_hosts(st, p, obj, v, line);
    }
    return fail(st, line, p->key, "internal error: unknown type");
}

static bool grow_kind(mx_parse_t *st, int kind, int line, const char *label)
{
    const mx_kind_t *k = &mx_kinds[kind];
    size_t n = kind_count(st->c, kind);
    char *arr = kind_array(st->c, kind);
    if (n == st->cap[kind]) {
        size_t cap = n ? n * 2 : 4;
        char *a = realloc(arr, cap * k->elem_size);
        if (!a)
            return fail(st, line, label, "out of memory");
        arr = a;
        memcpy((char *)st->c + k->arr_off, &arr, sizeof(arr));
        st->cap[kind] = cap;
    }
    memset(arr + n * k->elem_size, 0, k->elem_size);
    n++;
    memcpy((char *)st->c + k->count_off, &n, sizeof(n));
    return true;
}

static bool add_sect(mx_parse_t *st, int kind, size_t index, int line)
{
    if (st->n_sects == st->cap_sects) {
        size_t cap = st->cap_sects ? st->cap_sects * 2 : 16;
        mx_sect_t *s = realloc(st->sects, cap * sizeof(*s));
        if (!s)
            return fail(st, line, NULL, "out of memory");
        st->sects = s;
        st->cap_sects = cap;
    }
    mx_sect_t *s = &st->sects[st->n_sects++];
    memset(s, 0, sizeof(*s));
    s->kind = kind;
    s->index = index;
    s->line = line;
    return true;
}

static bool apply_defaults(mx_parse_t *st, int kind, void *obj, int line)
{
    for (size_t i = 0; i < MX_N_PARAMS; i++) {
        const mx_param_t *p = &mx_params[i];
        if (p->sect == kind && p->def && !set_value(st, p, obj, p->def, line))
            return false;
    }
    return true;
}

/* Opens the section of a "[type name]" line (header is inside the
 * brackets, trimmed). */
static bool begin_section(mx_parse_t *st, char *header)
{
    int line = st->lineno;
    char label[300];
    snprintf(label, sizeof(label), "[%.256s]", header);
    char *name = header;
    while (*name && !isspace((unsigned char)*name))
        name++;
    if (*name)
        *name++ = '\0';
    while (isspace((unsigned char)*name))
        name++;

    int kind = -1;
    for (int k = 0; k < S__COUNT; k++)
        if (strcasecmp(header, mx_kinds[k].name) == 0)
            kind = k;
    if (kind < 0)
        return fail(st, line, label, "unknown section type '%s' (expected manx, admin, "
                    "user, schema, datanode, datahost or host)", header);
    const mx_kind_t *k = &mx_kinds[kind];
    if (!k->named) {
        if (*name)
            return fail(st, line, label, "[%s] takes no name", k->name);
        for (size_t i = 0; i < st->n_sects; i++) {
            mx_sect_t *s = &st->sects[i];
            if (s->kind == kind && s->line > 0)
                return fail(st, line, label, "duplicate section (first at line %d)", s->line);
            if (s->kind == kind) {
                s->line = line;
                st->cur = (long)i;
                return true;
            }
        }
        return fail(st, line, label, "internal error: no singleton");
    }
    if (!*name)
        return fail(st, line, label, "section needs a name: [%s NAME]", k->name);
    if (strlen(name) >= MX_NAME_MAX)
        return fail(st, line, label, "name too long (max %d bytes)", MX_NAME_MAX - 1);
    for (const char *c = name; *c; c++)
        if (isspace((unsigned char)*c) || *c == ',' || !isprint((unsigned char)*c))
            return fail(st, line, label, "name may not contain spaces, ',' or control characters");
    long dup = find_object(st->c, kind, name, strlen(name));
    if (dup >= 0) {
        int dline;
        memcpy(&dline, (char *)obj_base(st->c, kind, (size_t)dup) + k->line_off, sizeof(dline));
        return fail(st, line, label, "duplicate section (first at line %d)", dline);
    }
    if (!grow_kind(st, kind, line, label))
        return false;
    size_t index = kind_count(st->c, kind) - 1;
    char *obj = obj_base(st->c, kind, index);
    strcpy(obj, name);
    memcpy(obj + k->line_off, &line, sizeof(line));
    if (!add_sect(st, kind, index, line))
        return false;
    st->cur = (long)st->n_sects - 1;
    return apply_defaults(st, kind, obj, line);
}

/* inih's ";" inline comment: only after whitespace. */
static bool is_inline_comment(const char *start, const char *p)
{
    return *p == ';' && p > start && isspace((unsigned char)p[-1]);
}

/* Handles a "[...]" line the way inih will (it ends at the first ']' not
 * inside an inline comment) but stricter: nothing but a comment may follow. */
static bool section_line(mx_parse_t *st, const char *s, size_t len)
{
    char buf[256];
    const char *rb = NULL;
    for (const char *p = s + 1; p < s + len; p++) {
        if (is_inline_comment(s, p))
            break;
        if (*p == ']') {
            rb = p;
            break;
        }
    }
    if (!rb)
        return fail(st, st->lineno, NULL, "section header without ']'");
    for (const char *p = rb + 1; p < s + len; p++) {
        if (*p == ';' || *p == '#')
            break;
        if (!isspace((unsigned char)*p))
            return fail(st, st->lineno, NULL, "unexpected text after ']'");
    }
    const char *a = s + 1, *b = rb;
    while (a < b && isspace((unsigned char)*a))
        a++;
    while (b > a && isspace((unsigned char)b[-1]))
        b--;
    if ((size_t)(b - a) >= sizeof(buf))
        return fail(st, st->lineno, NULL, "section header too long");
    memcpy(buf, a, (size_t)(b - a));
    buf[b - a] = '\0';
    return begin_section(st, buf);
}

/* inih's ini_reader over our buffer: one call per physical line, so inih's
 * line count and ours agree.  We strip leading blanks (which also turns off
 * inih's indented-continuation lines), a BOM, and a trailing '\r'; we open
 * sections ourselves because inih reports neither empty sections nor the
 * line a section began on. */
static char *line_reader(char *str, int num, void *stream)
{
    mx_parse_t *st = stream;
    if (st->failed || st->pos >= st->end)
        return NULL;
    const char *s = st->pos;
    const char *nl = memchr(s, '\n', (size_t)(st->end - s));
    size_t len = nl ? (size_t)(nl - s) : (size_t)(st->end - s);
    st->pos = s + len + (nl ? 1 : 0);
    st->lineno++;

    if (st->lineno == 1 && len >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) {
        s += 3;
        len -= 3;
    }
    if (len > 0 && s[len - 1] == '\r')
        len--;
    if (memchr(s, '\0', len)) {
        fail(st, st->lineno, NULL, "line contains a NUL byte");
        return NULL;
    }
    while (len > 0 && (*s == ' ' || *s == '\t')) {
        s++;
        len--;
    }
    if (len == 0 || *s == ';' || *s == '#') {
        str[0] = '\n';
        str[1] = '\0';
        return str;
    }
    /* inih's line buffer is fixed at build time (200 bytes in Debian's
     * libinih); a longer line would be split into bogus lines. */
    if (num < 3 || len + 2 > (size_t)num) {
        size_t max = num < 3 ? 0 : (size_t)num - 2;
        size_t k = 0;
        while (k < max && s[k] != '=' && s[k] != ':')
            k++;
        if (*s != '[' && k < max) {
            while (k > 0 && isspace((unsigned char)s[k - 1]))
                k--;
            char key[128];
            snprintf(key, sizeof(key), "%.*s", (int)k, s);
            fail(st, st->lineno, key, "value too long (a line holds at most %zu bytes)", max);
        } else {
            fail(st, st->lineno, NULL, "line too long (at most %zu bytes)", max);
        }
        return NULL;
    }
    if (*s == '[' && !section_line(st, s, len))
        return NULL;
    memcpy(str, s, len);
    str[len] = '\n';
    str[len + 1] = '\0';
    return str;
}

static int on_key(void *user, const char *section, const char *name, const char *value)
{
    mx_parse_t *st = user;
    (void)section;  /* inih truncates it to 50 bytes; we track sections ourselves */
    if (st->failed)
        return 0;
    if (name[0] == '\0')
        return fail(st, st->lineno, NULL, "missing key name before '='");
    if (st->cur < 0)
        return fail(st, st->lineno, name, "key outside any section");
    mx_sect_t *s = &st->sects[st->cur];
    char label[160];
    for (size_t i = 0; i < MX_N_PARAMS; i++) {
        const mx_param_t *p = &mx_params[i];
        if (p->sect != s->kind || strcasecmp(p->key, name) != 0)
            continue;
        if (SEEN(s, i))
            return fail(st, st->lineno, p->key, "duplicate key in %s (first at line %d)",
                        sect_label(st, s, label, sizeof(label)), s->key_line[i]);
        s->seen[i / 64] |= 1ULL << (i % 64);
        s->key_line[i] = st->lineno;
        if (!mx_kinds[s->kind].named)
            st->c->key_line[i] = st->lineno;
        return set_value(st, p, obj_base(st->c, s->kind, s->index), value, st->lineno);
    }
    return fail(st, st->lineno, name, "unknown key in %s", sect_label(st, s, label, sizeof(label)));
}

static size_t param_index(int kind, const char *key)
{
    for (size_t i = 0; i < MX_N_PARAMS; i++)
        if (mx_params[i].sect == kind && strcmp(mx_params[i].key, key) == 0)
            return i;
    abort();  /* a typo in this file, not in the config */
}

/* Line of `key` in section s if it was given, else the section header's. */
static int key_line(const mx_sect_t *s, const char *key)
{
    size_t i = param_index(s->kind, key);
    if (SEEN(s, i))
        return s->key_line[i];
    return s->line;
}

static bool given(const mx_sect_t *s, const char *key)
{
    return SEEN(s, param_index(s->kind, key)) != 0;
}

static bool check_required(mx_parse_t *st)
{
    char label[160];
    if (st->c->n_users == 0)
        return fail(st, 0, NULL, "no [user NAME] section; at least one is needed");
    if (st->c->n_schemas == 0)
        return fail(st, 0, NULL, "no [schema NAME] section; at least one is needed");
    for (size_t k = 0; k < st->n_sects; k++) {
        mx_sect_t *s = &st->sects[k];
        for (size_t i = 0; i < MX_N_PARAMS; i++) {
            const mx_param_t *p = &mx_params[i];
            if (p->sect == s->kind && (p->flags & F_REQUIRED) && !SEEN(s, i))
                return fail(st, s->line, p->key, "required key missing from %s",
                            sect_label(st, s, label, sizeof(label)));
        }
        if (s->kind == S_USER && !given(s, "password") && !given(s, "password_hash"))
            return fail(st, s->line, "password", "%s needs password or password_hash",
                        sect_label(st, s, label, sizeof(label)));
    }
    return true;
}

static bool resolve_refs(mx_parse_t *st)
{
    for (size_t r = 0; r < st->n_refs; r++) {
        mx_ref_t *ref = &st->refs[r];
        const mx_param_t *p = ref->p;
        mx_sect_t *s = &st->sects[ref->sect];
        char *field = (char *)obj_base(st->c, s->kind, s->index) + p->off;
        const char *tname = mx_kinds[p->target].name;
        size_t max = p->size / sizeof(void *), n = 0;

        for (char *t = ref->text;;) {
            char *comma = p->type == T_LIST ? strchr(t, ',') : NULL;
            char *e = comma ? comma : t + strlen(t);
            while (isspace((unsigned char)*t))
                t++;
            while (e > t && isspace((unsigned char)e[-1]))
                e--;
            if (e == t)
                return fail(st, ref->line, p->key, "empty name in list");
            long idx = find_object(st->c, p->target, t, (size_t)(e - t));
            if (idx < 0)
                return fail(st, ref->line, p->key, "unknown %s '%.*s'", tname, (int)(e - t), t);
            void *target = obj_base(st->c, p->target, (size_t)idx);
            if (p->type == T_REF) {
                memcpy(field, &target, sizeof(target));
                break;
            }
            /* The field is an array of typed pointers; go through memcpy
             * rather than a void ** lvalue. */
            for (size_t i = 0; i < n; i++) {
                void *prev;
                memcpy(&prev, field + i * sizeof(prev), sizeof(prev));
                if (prev == target)
                    return fail(st, ref->line, p->key, "%s '%.*s' listed twice", tname,
                                (int)(e - t), t);
            }
            if (n == max)
                return fail(st, ref->line, p->key, "too many names (max %zu)", max);
            memcpy(field + n++ * sizeof(target), &target, sizeof(target));
            if (!comma)
                break;
            t = comma + 1;
        }
        if (p->type == T_LIST)
            memcpy((char *)obj_base(st->c, s->kind, s->index) + p->count_off, &n, sizeof(n));
    }
    return true;
}

static bool sha1(const void *data, size_t len, uint8_t out[20])
{
    return EVP_Digest(data, len, out, NULL, EVP_sha1(), NULL) == 1;
}

/* A name that goes into an etcd key or a lock name: no '/', no quote,
 * printable ASCII. */
static bool key_name_ok(const char *v)
{
    for (const char *p = v; *p; p++)
        if (*p <= ' ' || *p > '~' || *p == '/' || *p == '\'' || *p == '"' || *p == '\\')
            return false;
    return true;
}

static bool check_coordination(mx_parse_t *st)
{
    mx_config_t *c = st->c;
    mx_sect_t *manx = &st->sects[0];
    if (!c->instance_name[0]) {
        char host[256] = "";
        if (gethostname(host, sizeof(host) - 1) != 0 || !host[0])
            snprintf(host, sizeof(host), "manx");
        const char *port = strrchr(c->listen, ':');
        snprintf(c->instance_name, sizeof(c->instance_name), "%.100s:%s", host, port ? port + 1 : "8066");
        for (char *p = c->instance_name; *p; p++)
            if (*p == '/' || *p <= ' ' || *p > '~')
                *p = '_';
    } else if (!key_name_ok(c->instance_name)) {
        return fail(st, key_line(manx, "instance_name"), "instance_name",
                    "'%s': only printable characters, no spaces, quotes or '/'", c->instance_name);
    }
    if (c->cluster_name[0] && !key_name_ok(c->cluster_name))
        return fail(st, key_line(manx, "cluster_name"), "cluster_name",
                    "'%s': only printable characters, no spaces, quotes or '/'", c->cluster_name);
    if (c->coordination == MX_COORD_NONE)
        return true;
    const char *mode = c->coordination == MX_COORD_ETCD ? "etcd" : "backend_locks";
    for (size_t k = 0; k < st->n_sects; k++) {
        mx_sect_t *s = &st->sects[k];
        if (s->kind != S_DATAHOST)
            continue;
        const mx_datahost_t *d = obj_base(c, s->kind, s->index);
        if (d->write_type == 1)
            return fail(st, key_line(s, "write_type"), "write_type",
                        "write_type = 1 sends writes to every writeHost: there is no single writer for "
                        "coordination = %s to agree on", mode);
    }
    if (c->coordination == MX_COORD_BACKEND_LOCKS)
        return true;
    if (!c->cluster_name[0])
        return fail(st, manx->line, "cluster_name", "coordination = etcd needs cluster_name");
    if (!c->etcd_endpoints[0])
        return fail(st, manx->line, "etcd_endpoints", "coordination = etcd needs etcd_endpoints");
    size_t n = 0;
    for (const char *p = c->etcd_endpoints; *p;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        while (len && *p == ' ')
            p++, len--;
        while (len && p[len - 1] == ' ')
            len--;
        const char *colon = memrchr(p, ':', len);
        if (!len || !colon || colon == p + len - 1 || memchr(p, ' ', len))
            return fail(st, key_line(manx, "etcd_endpoints"), "etcd_endpoints",
                        "'%.*s' is not host:port or http://host:port", (int)len, p);
        for (const char *q = colon + 1; q < p + len; q++)
            if (*q < '0' || *q > '9')
                return fail(st, key_line(manx, "etcd_endpoints"), "etcd_endpoints",
                            "'%.*s': the port is not a number", (int)len, p);
        if (++n > MX_ETCD_MAX_ENDPOINTS)
            return fail(st, key_line(manx, "etcd_endpoints"), "etcd_endpoints",
                        "more than %d endpoints", MX_ETCD_MAX_ENDPOINTS);
        if (!e)
            break;
        p = e + 1;
    }
    if (!c->etcd_cert[0] != !c->etcd_key[0])
        return fail(st, key_line(manx, c->etcd_cert[0] ? "etcd_cert" : "etcd_key"),
                    c->etcd_cert[0] ? "etcd_cert" : "etcd_key", "etcd_cert and etcd_key go together");
    size_t pl = strlen(c->etcd_prefix);
    if (pl < 2 || c->etcd_prefix[0] != '/' || c->etcd_prefix[pl - 1] == '/')
        return fail(st, key_line(manx, "etcd_prefix"), "etcd_prefix",
                    "'%s' must start with '/' and not end with one", c->etcd_prefix);
    return true;
}

/* Checks that involve several keys, and values derived from others. */
static bool finish(mx_parse_t *st)
{
    mx_config_t *c = st->c;
    mx_sect_t *manx = &st->sects[0];

    if (c->ssl_cert[0] && !c->ssl_key[0])
        return fail(st, key_line(manx, "ssl_cert"), "ssl_cert", "needs ssl_key too");
    if (c->ssl_key[0] && !c->ssl_cert[0])
        return fail(st, key_line(manx, "ssl_key"), "ssl_key", "needs ssl_cert too");
    if (c->require_secure_transport && !c->ssl_cert[0])
        return fail(st, key_line(manx, "require_secure_transport"),
                    "require_secure_transport", "needs ssl_cert and ssl_key");
    if (c->workers == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        c->workers = n < 1 ? 1 : n > MX_MAX_WORKERS ? MX_MAX_WORKERS : (int)n;
    }

    if (!check_coordination(st))
        return false;

    for (size_t k = 0; k < st->n_sects; k++) {
        mx_sect_t *s = &st->sects[k];
        void *obj = obj_base(c, s->kind, s->index);
        if (s->kind == S_USER) {
            mx_user_t *u = obj;
            if (given(s, "password") && given(s, "password_hash")) {
                int lp = key_line(s, "password"), lh = key_line(s, "password_hash");
                return fail(st, lp > lh ? lp : lh, lp > lh ? "password" : "password_hash",
                            "give either password or password_hash, not both");
            }
            if (u->has_password) {
                uint8_t stage1[20];
                if (!sha1(u->password, strlen(u->password), stage1) || !sha1(stage1, 20, u->stage2))
                    return fail(st, s->line, "password", "cannot compute SHA1");
            }
            if (!given(s, "strict_schemas"))
                u->strict_schemas = c->strict_schemas;
            if (given(s, "backend_password") && !u->backend_user[0])
                return fail(st, key_line(s, "backend_password"), "backend_password", "needs backend_user");
            if (strcmp(u->auth_plugin, "caching_sha2_password") == 0 && !u->has_password)
                return fail(st, key_line(s, "auth_plugin"), "auth_plugin",
                            "caching_sha2_password needs a clear password, not password_hash");
        } else if (s->kind == S_DATAHOST) {
            mx_datahost_t *d = obj;
            d->consistency_session = strcmp(d->consistency, "session") == 0;
            /* A default min_con follows a small max_con down; only an
             * explicit min_con above max_con is a mistake. */
            if (d->min_con > d->max_con && !given(s, "min_con"))
                d->min_con = d->max_con;
            if (d->min_con > d->max_con)
                return fail(st, key_line(s, "min_con"), "min_con", "min_con %d exceeds max_con %d",
                            d->min_con, d->max_con);
        }
    }
    char msg[200];
    if (!mx_conf_carry(c, NULL, msg, sizeof(msg)))
        return fail(st, 0, NULL, "%s", msg);
    return true;
}

static void config_dir(const char *path, char *out, size_t n)
{
    char dir[1024];
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(dir, sizeof(dir), ".");
    else if (slash == path)
        snprintf(dir, sizeof(dir), "/");
    else
        snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
    char *real = realpath(dir, NULL);
    snprintf(out, n, "%s", real ? real : dir);
    free(real);
}

mx_config_t *mx_conf_load_buffer(const char *path, const char *data, size_t len,
                                 char *err, size_t errlen)
{
    return mx_conf_load_mapped(path, data, len, NULL, 0, err, errlen);
}

mx_config_t *mx_conf_load_mapped(const char *path, const char *data, size_t len,
                                 const mx_conf_origin_t *origins, size_t n_origins,
                                 char *err, size_t errlen)
{
    mx_parse_t st = {.file = path, .origins = origins, .n_origins = n_origins, .pos = data,
                     .end = data + len, .cur = -1, .err = err, .errlen = errlen};
    if (errlen)
        err[0] = '\0';
    st.c = calloc(1, sizeof(*st.c));
    if (!st.c) {
        fail(&st, 0, NULL, "out of memory");
        return NULL;
    }
    atomic_init(&st.c->refs, 1);
    snprintf(st.c->path, sizeof(st.c->path), "%s", path);
    config_dir(path, st.dir, sizeof(st.dir));

    /* [manx] and [admin] exist with their defaults even when absent. */
    if (add_sect(&st, S_MANX, 0, 0) && add_sect(&st, S_ADMIN, 0, 0) &&
        apply_defaults(&st, S_MANX, st.c, 0) && apply_defaults(&st, S_ADMIN, st.c, 0)) {
        int bad = ini_parse_stream(line_reader, &st, on_key, &st);
        /* inih keeps going after a line it cannot parse and reports the
         * first one; we stop at our first error, so the earlier one wins. */
        if (bad > 0 && (!st.failed || bad < st.lineno)) {
            st.failed = false;
            fail(&st, bad, NULL, "cannot parse line (expected [section], key = value or a comment)");
        } else if (bad < 0) {
            fail(&st, 0, NULL, "parser error %d", bad);
        }
        if (!st.failed && check_required(&st) && resolve_refs(&st))
            finish(&st);
    }

    for (size_t i = 0; i < st.n_refs; i++)
        free(st.refs[i].text);
    free(st.refs);
    free(st.sects);
    if (st.failed) {
        mx_conf_free(st.c);
        return NULL;
    }
    return st.c;
}

mx_config_t *mx_conf_load(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        snprintf(err, errlen, "%s: not a regular file", path);
        fclose(f);
        return NULL;
    }
    if ((unsigned long long)sb.st_size > MX_CONF_MAX_FILE) {
        snprintf(err, errlen, "%s: file too large (max %u MB)", path, MX_CONF_MAX_FILE >> 20);
        fclose(f);
        return NULL;
    }
    size_t cap = (size_t)sb.st_size + 1;
    char *data = malloc(cap);
    if (!data) {
        snprintf(err, errlen, "%s: out of memory", path);
        fclose(f);
        return NULL;
    }
    size_t n = fread(data, 1, cap, f);
    bool ioerr = ferror(f) || n == cap;  /* n == cap: it grew while we read */
    int saved = errno;
    fclose(f);
    if (ioerr) {
        snprintf(err, errlen, "%s: cannot read: %s", path, n == cap ? "file changed" : strerror(saved));
        free(data);
        return NULL;
    }
    mx_config_t *c = mx_conf_load_buffer(path, data, n, err, errlen);
    free(data);
    return c;
}

void mx_conf_free(mx_config_t *c)
{
    if (!c)
        return;
    free(c->users);
    free(c->schemas);
    free(c->datanodes);
    free(c->datahosts);
    free(c->hosts);
    free(c);
}

void mx_conf_ref(mx_config_t *c)
{
    atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed);
}

void mx_conf_unref(mx_config_t *c)
{
    /* acq_rel: every holder's reads happen before the free. */
    if (c && atomic_fetch_sub_explicit(&c->refs, 1, memory_order_acq_rel) == 1)
        mx_conf_free(c);
}

const mx_host_t *mx_conf_host_by_slot(const mx_config_t *c, int index)
{
    for (size_t i = 0; i < c->n_hosts; i++)
        if (c->hosts[i].index == index)
            return &c->hosts[i];
    return NULL;
}

/* Hosts are the same server when name, address and credentials agree:
 * then their pools, heartbeat state and connection counts carry over. */
static bool same_host(const mx_host_t *a, const mx_host_t *b)
{
    return strcmp(a->name, b->name) == 0 && strcmp(a->address, b->address) == 0 &&
           strcmp(a->user, b->user) == 0 && strcmp(a->password, b->password) == 0 && a->ssl == b->ssl;
}

/* A dataHost keeps its slot (and so its active writeHost index) only while
 * that index means the same server: same name, same writeHosts in order. */
static bool same_datahost(const mx_datahost_t *a, const mx_datahost_t *b)
{
    if (strcmp(a->name, b->name) != 0 || a->n_write_hosts != b->n_write_hosts)
        return false;
    for (size_t i = 0; i < a->n_write_hosts; i++)
        if (a->write_hosts[i]->index != b->write_hosts[i]->index)
            return false;
    return true;
}

bool mx_conf_carry(mx_config_t *c, const mx_config_t *prev, char *err, size_t errlen)
{
    c->generation = prev ? prev->generation + 1 : 1;
    c->n_host_slots = prev ? prev->n_host_slots : 0;
    c->n_dh_slots = prev ? prev->n_dh_slots : 0;
    c->n_acct_slots = prev ? prev->n_acct_slots : 1;
    c->n_user_keys = prev ? prev->n_user_keys : 0;
    for (size_t i = 0; i < c->n_hosts; i++) {
        mx_host_t *h = &c->hosts[i];
        long j = prev ? find_object(prev, S_HOST, h->name, strlen(h->name)) : -1;
        if (j >= 0 && same_host(&prev->hosts[j], h)) {
            h->index = prev->hosts[j].index;
        } else if (c->n_host_slots >= MX_MAX_HOST_SLOTS) {
            snprintf(err, errlen, "%s: [host %s]: more than %d hosts over the process's life; needs a restart",
                     c->path, h->name, MX_MAX_HOST_SLOTS);
            return false;
        } else {
            h->index = c->n_host_slots++;
        }
    }
    /* Datahosts after hosts: their identity is the writeHosts' slots. */
    for (size_t i = 0; i < c->n_datahosts; i++) {
        mx_datahost_t *d = &c->datahosts[i];
        long j = prev ? find_object(prev, S_DATAHOST, d->name, strlen(d->name)) : -1;
        if (j >= 0 && same_datahost(&prev->datahosts[j], d)) {
            d->index = prev->datahosts[j].index;
        } else if (c->n_dh_slots >= MX_MAX_DH_SLOTS) {
            snprintf(err, errlen, "%s: [datahost %s]: more than %d dataHosts over the process's life; needs a "
                     "restart", c->path, d->name, MX_MAX_DH_SLOTS);
            return false;
        } else {
            d->index = c->n_dh_slots++;
        }
    }
    memset(c->accounts, 0, sizeof(c->accounts));
    for (size_t i = 0; i < c->n_users; i++) {
        mx_user_t *u = &c->users[i];
        long j = prev ? find_object(prev, S_USER, u->name, strlen(u->name)) : -1;
        u->key = j >= 0 ? prev->users[j].key : ++c->n_user_keys;
        u->acct = 0;
        if (!u->backend_user[0])
            continue;
        /* The same account keeps its slot: its pools stay warm. */
        int a = -1;
        for (int k = 1; prev && k < prev->n_acct_slots && a < 0; k++)
            if (prev->accounts[k].user && strcmp(prev->accounts[k].user, u->backend_user) == 0 &&
                strcmp(prev->accounts[k].password, u->backend_password) == 0)
                a = k;
        for (int k = 1; k < c->n_acct_slots && a < 0; k++)
            if (c->accounts[k].user && strcmp(c->accounts[k].user, u->backend_user) == 0 &&
                strcmp(c->accounts[k].password, u->backend_password) == 0)
                a = k;
        if (a < 0) {
            if (c->n_acct_slots >= MX_MAX_ACCOUNTS) {
                snprintf(err, errlen, "%s: [user %s]: more than %d backend accounts over the process's life; "
                         "needs a restart", c->path, u->name, MX_MAX_ACCOUNTS - 1);
                return false;
            }
            a = c->n_acct_slots++;
        }
        c->accounts[a].user = u->backend_user;
        c->accounts[a].password = u->backend_password;
        u->acct = a;
    }
    return true;
}

const mx_user_t *mx_conf_find_user(const mx_config_t *c, const char *name, size_t len)
{
    long i = find_object(c, S_USER, name, len);
    return i < 0 ? NULL : &c->users[i];
}

const mx_schema_t *mx_conf_find_schema(const mx_config_t *c, const char *name, size_t len)
{
    long i = find_object(c, S_SCHEMA, name, len);
    return i < 0 ? NULL : &c->schemas[i];
}

bool mx_conf_user_may_use(const mx_user_t *u, const mx_schema_t *s)
{
    for (size_t i = 0; i < u->n_schemas; i++)
        if (u->schemas[i] == s)
            return true;
    return false;
}

/* A field's current value as it could be written back to the file. */
static void format_value(const mx_param_t *p, const void *obj, char *out, size_t n)
{
    const char *field = (const char *)obj + p->off;
    int iv;
    out[0] = '\0';
    switch (p->type) {
    case T_STR:
    case T_SECRET:
    case T_PATH:
    case T_LISTEN:
    case T_ADDR:
    case T_USER_PW:
        snprintf(out, n, "%s", field);
        break;
    case T_INT:
        memcpy(&iv, field, sizeof(iv));
        snprintf(out, n, "%d", iv);
        break;
    case T_MS:
        memcpy(&iv, field, sizeof(iv));
        snprintf(out, n, "%dms", iv);
        break;
    case T_ENUM:
        memcpy(&iv, field, sizeof(iv));
        choice_text(p->choices, iv, out, n);
        break;
    case T_BOOL:
        snprintf(out, n, "%s", *(const bool *)field ? "true" : "false");
        break;
    case T_SIZE: {
        uint32_t v;
        memcpy(&v, field, sizeof(v));
        format_size(v, out, n);
        break;
    }
    case T_HASH: {
        size_t o = 0;
        if (n > 41) {
            out[o++] = '*';
            for (int i = 0; i < 20; i++, o += 2)
                snprintf(out + o, 3, "%02X", (unsigned)(uint8_t)field[i]);
        }
        break;
    }
    case T_REF: {
        const void *t;
        memcpy(&t, field, sizeof(t));
        snprintf(out, n, "%s", t ? obj_name(t) : "");
        break;
    }
    case T_HOSTS: {
        const mx_user_t *u = obj;
        size_t o = 0;
        for (size_t i = 0; i < u->n_hosts && o < n; i++) {
            int w = snprintf(out + o, n - o, "%s%s", i ? ", " : "", u->hosts[i]);
            o += w > 0 ? (size_t)w : 0;
        }
        break;
    }
    case T_LIST: {
        size_t count, o = 0;
        memcpy(&count, (const char *)obj + p->count_off, sizeof(count));
        for (size_t i = 0; i < count && o < n; i++) {
            const void *t;
            memcpy(&t, field + i * sizeof(t), sizeof(t));
            int w = snprintf(out + o, n - o, "%s%s", i ? ", " : "", obj_name(t));
            o += w > 0 ? (size_t)w : 0;
        }
        break;
    }
    }
}

static bool is_secret(const mx_param_t *p)
{
    return p->type == T_SECRET || p->type == T_USER_PW || p->type == T_HASH;
}

static void each_in(const mx_config_t *c, int kind, mx_conf_param_cb cb, void *arg)
{
    size_t n = mx_kinds[kind].named ? kind_count(c, kind) : 1;
    char section[MX_NAME_MAX + 16], value[2048];
    for (size_t o = 0; o < n; o++) {
        const void *obj = obj_base(c, kind, o);
        if (mx_kinds[kind].named)
            snprintf(section, sizeof(section), "%s %s", mx_kinds[kind].name, obj_name(obj));
        else
            snprintf(section, sizeof(section), "%s", mx_kinds[kind].name);
        for (size_t i = 0; i < MX_N_PARAMS; i++) {
            const mx_param_t *p = &mx_params[i];
            if (p->sect != kind)
                continue;
            if (is_secret(p))
                snprintf(value, sizeof(value), "***");
            else
                format_value(p, obj, value, sizeof(value));
            cb(arg, section, p->key, value, p->help);
        }
    }
}

void mx_conf_each_param(const mx_config_t *c, mx_conf_param_cb cb, void *arg)
{
    each_in(c, S_MANX, cb, arg);
    each_in(c, S_ADMIN, cb, arg);
    each_in(c, S_DATAHOST, cb, arg);
}

bool mx_conf_check_reload(const mx_config_t *old, const mx_config_t *c, char *err, size_t errlen)
{
    char a[2048], b[2048];
    for (size_t i = 0; i < MX_N_PARAMS; i++) {
        const mx_param_t *p = &mx_params[i];
        if (p->reload)
            continue;
        size_t n = mx_kinds[p->sect].named ? kind_count(c, p->sect) : 1;
        for (size_t o = 0; o < n; o++) {
            const void *now = obj_base(c, p->sect, o), *before = old;
            if (mx_kinds[p->sect].named) {
                long j = find_object(old, p->sect, obj_name(now), strlen(obj_name(now)));
                if (j < 0)
                    continue;
                before = obj_base(old, p->sect, (size_t)j);
            }
            format_value(p, before, a, sizeof(a));
            format_value(p, now, b, sizeof(b));
            if (strcmp(a, b) == 0)
                continue;
            if (mx_kinds[p->sect].named)
                snprintf(err, errlen, "%s:%d: [%s %s] %s: changed from '%s' to '%s'; needs a restart",
                         c->path, *(const int *)((const char *)now + mx_kinds[p->sect].line_off),
                         mx_kinds[p->sect].name, obj_name(now), p->key, a, b);
            else if (c->key_line[i])
                snprintf(err, errlen, "%s:%d: %s: changed from '%s' to '%s'; needs a restart",
                         c->path, c->key_line[i], p->key, a, b);
            else
                snprintf(err, errlen, "%s: %s: not given, so changed from '%s' to the default '%s'; needs a restart",
                         c->path, p->key, a, b);
            return false;
        }
    }
    return true;
}

static const char *type_text(const mx_param_t *p, char *buf, size_t n)
{
    char lo[32], hi[32], ch[128];
    switch (p->type) {
    case T_STR:
        if (p->choices) {
            choice_text(p->choices, -1, ch, sizeof(ch));
            snprintf(buf, n, "one of %s", ch);
        } else {
            snprintf(buf, n, "string (max %zu bytes)", p->size - 1);
        }
        return buf;
    case T_SECRET:
    case T_USER_PW: snprintf(buf, n, "secret string (max %zu bytes)", p->size - 1); return buf;
    case T_PATH: return (p->flags & F_READABLE) ? "path to a readable file" : "path";
    case T_INT:
        if (p->choices) {
            choice_text(p->choices, -1, ch, sizeof(ch));
            snprintf(buf, n, "one of %s", ch);
        } else {
            snprintf(buf, n, "integer %lld..%lld", p->min, p->max);
        }
        return buf;
    case T_ENUM:
        choice_text(p->choices, -1, ch, sizeof(ch));
        snprintf(buf, n, "one of %s", ch);
        return buf;
    case T_BOOL: return "boolean";
    case T_MS: snprintf(buf, n, "duration %lld..%lld ms", p->min, p->max); return buf;
    case T_SIZE:
        format_size(p->min, lo, sizeof(lo));
        format_size(p->max, hi, sizeof(hi));
        snprintf(buf, n, "size %s..%s", lo, hi);
        return buf;
    case T_LISTEN: return "ip:port";
    case T_ADDR: return "ip:port";
    case T_HASH: return "`*` + 40 hex digits";
    case T_REF: snprintf(buf, n, "%s name", mx_kinds[p->target].name); return buf;
    case T_LIST:
        snprintf(buf, n, "list of %s names (max %zu)", mx_kinds[p->target].name,
                 p->size / sizeof(void *));
        return buf;
    case T_HOSTS:
        snprintf(buf, n, "list of address patterns (max %d)", MX_MAX_USER_HOSTS);
        return buf;
    }
    return "?";
}

void mx__conf_write_reference(FILE *f)
{
    fprintf(f, "# manx configuration reference\n\n"
               "Generated from the parameter table in conf/conf.c "
               "(`test_conf --reference`, built in tests/); do not edit by hand.\n\n"
               "Sections are `[manx]`, `[admin]` and any number of `[user NAME]`, "
               "`[schema NAME]`, `[datanode NAME]`, `[datahost NAME]` and `[host NAME]`; "
               "names may be referenced before their section appears. "
               "Keys and section types are case-insensitive, names are not. "
               "Comments start a line with `;` or `#`, or follow whitespace with `;`. "
               "Relative paths are relative to the directory of the config file. "
               "Durations take `ms`, `s` or `m` (plain numbers are milliseconds); "
               "sizes take `K`, `M` or `G`; booleans are true/false, yes/no, on/off or 1/0. "
               "A line holds at most 198 bytes (the line buffer of Debian's libinih). "
               "A reload (SIGHUP) loads the file as a new generation and swaps it in: new sessions and "
               "each session's next statement use it (a session inside a transaction or otherwise pinned "
               "to its backend finishes that first); sections may be added and removed. "
               "A host whose name, address, user, password and ssl stay the same keeps its pools and "
               "heartbeat state; a removed or changed host's pools close (idle connections at once, busy "
               "ones when their session lets go). A session whose user was removed, or whose schema it "
               "may no longer use, gets an error at its next statement and is closed. "
               "*Reload: no* means a changed value is refused on reload with file:line (the running "
               "configuration stays) and needs a restart.\n\n"
               "| Section | Key | Type | Default | Reload | Meaning |\n"
               "|---|---|---|---|---|---|\n");
    for (size_t i = 0; i < MX_N_PARAMS; i++) {
        const mx_param_t *p = &mx_params[i];
        char tbuf[160];
        const char *def = p->def ? (p->def[0] ? p->def : "(empty)")
                                 : (p->flags & F_REQUIRED) ? "**required**" : "(none)";
        fprintf(f, "| [%s%s] | `%s` | %s | %s%s%s | %s | %s |\n",
                mx_kinds[p->sect].name, mx_kinds[p->sect].named ? " NAME" : "", p->key,
                type_text(p, tbuf, sizeof(tbuf)),
                p->def && p->def[0] ? "`" : "", def, p->def && p->def[0] ? "`" : "",
                p->reload ? "yes" : "no", p->help);
    }
}
