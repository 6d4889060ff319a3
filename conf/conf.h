/* manx configuration: loads an INI file (inih) into an immutable mx_config_t,
 * validating every key against one table, resolving names (schema ->
 * datanode -> datahost -> hosts) and reporting the first error as
 * "file:line: key: reason".  Knows nothing of the running proxy. */
#ifndef MX_CONF_CONF_H
#define MX_CONF_CONF_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define MX_NAME_MAX 64
#define MX_MAX_HOSTS_PER_LIST 16
/* Slots: numbers that name a host, a dataHost or a backend account across
 * reloads (run-time state is indexed by them).  A slot is never reused, so
 * the process has at most this many over its life. */
#define MX_MAX_HOST_SLOTS 1024
#define MX_MAX_DH_SLOTS 1024
#define MX_MAX_ACCOUNTS 32
/* [user] hosts: at most this many address patterns, each shorter than
 * MX_HOST_PATTERN_MAX (an IPv6 address with room to spare). */
#define MX_MAX_USER_HOSTS 32
#define MX_HOST_PATTERN_MAX 48
/* Keys in the table (conf.c checks). */
#define MX_CONF_MAX_PARAMS 128

enum { MX_COORD_NONE, MX_COORD_ETCD, MX_COORD_BACKEND_LOCKS };
enum { MX_FENCE_NONE, MX_FENCE_READ_ONLY };
#define MX_ETCD_MAX_ENDPOINTS 16

typedef struct mx_host_s mx_host_t;

/* [host NAME]: one MySQL/MariaDB server. */
struct mx_host_s {
    char name[MX_NAME_MAX];
    char address[256];           /* as written: "127.0.0.1:3307", "[::1]:3307", "db1:3306" */
    char ip[64];                 /* numeric address part */
    uint16_t port;
    char user[MX_NAME_MAX];
    char password[128];
    int weight;                  /* default 1 */
    bool ssl;                    /* TLS to this backend */
    mx_host_t *read_hosts[MX_MAX_HOSTS_PER_LIST]; /* resolved read_hosts */
    size_t n_read_hosts;
    int index;                   /* slot: position at the first load; kept by a reload for the same
                                  * name, address, user, password and ssl, else a new one */
    int line;                    /* where the section started */
};

/* [datahost NAME]: Mycat's dataHost. */
typedef struct mx_datahost_s {
    char name[MX_NAME_MAX];
    int balance;                 /* 0..3 */
    int write_type;              /* 0 or 1 */
    int switch_type;             /* -1, 1, 2, 3 */
    int slave_threshold;         /* seconds */
    int max_con;
    int min_con;
    char heartbeat[256];
    char consistency[16];        /* "eventual" or "session" */
    bool consistency_session;    /* consistency == "session", derived */
    bool drop_reads_of_dead_writer; /* Mycat's behaviour: a DOWN writeHost's readHosts serve no reads */
    int consistency_timeout_ms;  /* how long a read waits for a replica to catch up */
    mx_host_t *write_hosts[MX_MAX_HOSTS_PER_LIST];
    size_t n_write_hosts;
    int heartbeat_period_ms;
    int heartbeat_timeout_ms;
    int heartbeat_retries;
    int heartbeat_retry_interval_ms;
    int heartbeat_rise;
    int rejoin_delay_ms;
    int fence;                   /* MX_FENCE_NONE or MX_FENCE_READ_ONLY */
    int index;                   /* slot: position at the first load; kept by a reload for the same
                                  * name and the same writeHost slots in the same order, else a new one */
    int line;
} mx_datahost_t;

/* [datanode NAME] */
typedef struct mx_datanode_s {
    char name[MX_NAME_MAX];
    mx_datahost_t *datahost;
    char database[MX_NAME_MAX];  /* real database on the backends */
    int line;
} mx_datanode_t;

/* [schema NAME]: a logical database clients see. */
typedef struct mx_schema_s {
    char name[MX_NAME_MAX];
    mx_datanode_t *datanode;
    int sql_max_limit;           /* 0 = off */
    int line;
} mx_schema_t;

/* [user NAME] */
typedef struct mx_user_s {
    char name[MX_NAME_MAX];
    char password[128];          /* clear text; empty if only a hash is known */
    bool has_password;           /* `password` was given (may be empty) */
    uint8_t stage2[20];          /* SHA1(SHA1(password)), from password or password_hash */
    mx_schema_t *schemas[32];
    size_t n_schemas;
    bool readonly;
    bool strict_schemas;         /* refuse statements naming other databases; default [manx] strict_schemas */
    char backend_user[MX_NAME_MAX];   /* backend account for this user's statements; "" = the host's */
    char backend_password[128];
    char auth_plugin[32];        /* mysql_native_password | caching_sha2_password */
    int max_connections;         /* sessions logged in as this user at once, all workers; 0 = no limit */
    char hosts[MX_MAX_USER_HOSTS][MX_HOST_PATTERN_MAX]; /* client addresses allowed (proxy/access.h
                                  * says how they match); none = any address */
    size_t n_hosts;
    uint32_t key;                /* >= 1; kept by a reload for the same name (who last used a backend) */
    int acct;                    /* backend account slot: 0 = the host's user, else accounts[acct] */
    int line;
} mx_user_t;

/* A backend account a user's statements run as (backend_user). */
typedef struct mx_account_s {
    const char *user;            /* NULL: slot not used by this config */
    const char *password;
} mx_account_t;

typedef struct mx_config_s {
    char path[1024];             /* file it was loaded from */
    char mycat_dir[1024];        /* set when made from a Mycat conf/ directory (conf/mycat.h): a reload reads that */
    unsigned mycat_flags;        /* MX_MYCAT_* the directory was read with */
    /* A loaded config is never written again, but for this count: each
     * holder (the main thread, a worker, a session, a pool, the heartbeat)
     * takes a reference; the last mx_conf_unref frees it. */
    _Atomic int refs;
    uint32_t generation;         /* 1 at start-up, +1 per reload */

    /* [manx] */
    char listen[256];            /* "0.0.0.0:8066" */
    char admin_listen[256];      /* "127.0.0.1:9066"; empty = no console */
    char metrics_listen[256];    /* "127.0.0.1:9067"; empty (default) = no HTTP metrics */
    int workers;                 /* resolved: >= 1 */
    char state_dir[1024];
    int log_level;               /* 0 error, 1 warning, 2 info, 3 debug */
    int max_connections;         /* client connections, all workers */
    uint32_t max_packet;         /* max_allowed_packet for clients */
    int connect_timeout_ms;      /* backend connect + auth */
    int pool_wait_timeout_ms;    /* a client waiting for a pooled connection */
    int client_idle_timeout_ms;  /* 0 = never */
    int net_read_timeout_ms;     /* a client silent in the middle of a packet is closed */
    bool strict_schemas;         /* default of [user] strict_schemas */
    int max_login_failures;      /* failed logins from one address before a lockout; 0 = off */
    int login_lockout_ms;        /* how long a locked-out address is refused */
    int shutdown_timeout_ms;     /* SIGTERM: in-flight statements may finish */
    char server_version[64];     /* announced to clients; empty = backend's */
    char ssl_cert[1024];
    char ssl_key[1024];
    char ssl_ca[1024];           /* CA to verify backends with ssl = true */
    bool require_secure_transport;
    char rsa_private_key[1024];  /* caching_sha2 RSA exchange; empty = generated */

    /* How instances agree on the writer (router/coord.h) */
    int coordination;            /* MX_COORD_* */
    char etcd_endpoints[1024];   /* "host:port,..." as written */
    char etcd_prefix[256];
    char cluster_name[MX_NAME_MAX];
    char instance_name[128];     /* resolved: never empty */
    char etcd_cacert[1024];      /* TLS to etcd: CA file; "" = http unless an endpoint says https:// */
    char etcd_cert[1024];        /* client certificate and key for etcd's client-cert-auth */
    char etcd_key[1024];
    int etcd_lease_ttl_ms;
    int etcd_timeout_ms;

    /* [admin] */
    char admin_user[MX_NAME_MAX];
    char admin_password[128];

    mx_user_t *users;      size_t n_users;
    mx_schema_t *schemas;  size_t n_schemas;
    mx_datanode_t *datanodes; size_t n_datanodes;
    mx_datahost_t *datahosts; size_t n_datahosts;
    mx_host_t *hosts;      size_t n_hosts;

    /* Slots (see MX_MAX_HOST_SLOTS), assigned by mx_conf_carry. */
    int n_host_slots;            /* slots used so far, this config's and earlier ones' */
    int n_dh_slots;
    int n_acct_slots;
    uint32_t n_user_keys;        /* user keys given so far: keys are 1..n_user_keys */
    mx_account_t accounts[MX_MAX_ACCOUNTS]; /* by slot; [0] unused (the host's own user) */
    int key_line[MX_CONF_MAX_PARAMS]; /* internal: line of each [manx]/[admin] key given, by table index */
} mx_config_t;

/* Load and validate `path`.  On error returns NULL and writes
 * "file:line: key: reason" (or "file: reason") into err. */
mx_config_t *mx_conf_load(const char *path, char *err, size_t errlen);
/* The same from memory (tests, fuzzing): `path` is only used in messages
 * and to resolve relative paths; the file itself is not read. */
mx_config_t *mx_conf_load_buffer(const char *path, const char *data, size_t len,
                                 char *err, size_t errlen);
/* Where a line of an INI made by a translator (conf/mycat.c) came from:
 * errors about that line name this file, line and element instead. */
typedef struct mx_conf_origin_s {
    const char *file;            /* e.g. "/etc/mycat/conf/schema.xml"; NULL = the INI line itself */
    int line;
    const char *what;            /* e.g. "<writeHost host=\"hostM1\">"; may be NULL */
} mx_conf_origin_t;
/* mx_conf_load_buffer whose errors about INI line i (1-based) name
 * origins[i - 1] when i <= n_origins and that origin has a file. */
mx_config_t *mx_conf_load_mapped(const char *path, const char *data, size_t len,
                                 const mx_conf_origin_t *origins, size_t n_origins,
                                 char *err, size_t errlen);
void mx_conf_free(mx_config_t *c);
/* Reference counting of a published config (see refs); a loaded config
 * starts with one reference. */
void mx_conf_ref(mx_config_t *c);
void mx_conf_unref(mx_config_t *c);

/* Before a reloaded config is published: give its hosts, dataHosts, users
 * and backend accounts the slots they had in `prev` (matched by name and,
 * for hosts and dataHosts, what makes them the same server or list), new
 * ones after prev's.  mx_conf_load gives a fresh config slots = positions.
 * Returns false with a message in err when a limit of slots is reached. */
bool mx_conf_carry(mx_config_t *c, const mx_config_t *prev, char *err, size_t errlen)
    __attribute__((warn_unused_result));
/* The host of `c` with slot `index`, or NULL. */
const mx_host_t *mx_conf_host_by_slot(const mx_config_t *c, int index);

const mx_user_t *mx_conf_find_user(const mx_config_t *c, const char *name, size_t len);
const mx_schema_t *mx_conf_find_schema(const mx_config_t *c, const char *name, size_t len);
bool mx_conf_user_may_use(const mx_user_t *u, const mx_schema_t *s);

/* One line per key of the table ("section.key = value  # help"), for
 * `show @@sysparam` and the README; calls cb for each. */
typedef void (*mx_conf_param_cb)(void *arg, const char *section, const char *key,
                                 const char *value, const char *help);
void mx_conf_each_param(const mx_config_t *c, mx_conf_param_cb cb, void *arg);

/* Reload: true if `c` differs from `old` only in keys the table marks
 * reloadable (sections compared by name; added or removed sections are not
 * checked).  Otherwise false and "file:line: key: changed from 'a' to 'b';
 * needs a restart" in err (the line of the key in the new file, or of its
 * section when the key is no longer given). */
bool mx_conf_check_reload(const mx_config_t *old, const mx_config_t *c, char *err,
                          size_t errlen) __attribute__((warn_unused_result));

/* Writes conf/config-reference.md from the table (internal: for the test
 * that keeps that file in step). */
void mx__conf_write_reference(FILE *f);

#endif
