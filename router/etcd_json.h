/* The etcd v3 JSON gateway's messages (POST /v3/..., proto3 JSON: keys and
 * values base64, int64s as strings, defaults omitted) as pure functions:
 * request bodies built, response bodies and watch-stream lines parsed into
 * typed structs, and manx's own values (the writer and view keys of
 * coord-spec.md).  No I/O: router/coord_etcd.c does the HTTP.  A body etcd
 * sends is input like any other: whatever it holds, a parser returns a
 * struct or -1, never reads past len and never trusts a length. */
#ifndef MX_ROUTER_ETCD_JSON_H
#define MX_ROUTER_ETCD_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One key-value of a range answer, a txn's response_range or a watch event. */
typedef struct mx_etcd_kv_s {
    char *key;                   /* base64-decoded, malloc'd, NUL-terminated ("" when absent) */
    size_t key_len;              /* bytes in key, without the NUL (a key may hold NULs) */
    char *value;                 /* idem */
    size_t value_len;
    int64_t create_revision;     /* absent = 0 (then the key does not exist) */
    int64_t mod_revision;        /* absent = 0 */
    int64_t version;             /* absent = 0 */
    int64_t lease;               /* absent = 0: no lease */
} mx_etcd_kv_t;

/* Any unary answer: range, put, txn, lease grant/keepalive/revoke, or an
 * error body.  A body wrapped in {"result":{...}} (keepalive) is unwrapped. */
typedef struct mx_etcd_resp_s {
    int64_t revision;            /* header.revision; 0 absent */
    bool succeeded;              /* txn; absent = false (a failed txn omits it) */
    mx_etcd_kv_t *kvs;           /* range's kvs, or every kv of a txn's response_range answers, in order */
    size_t n_kvs;
    int64_t id;                  /* lease "ID" */
    int64_t ttl;                 /* lease "TTL" (keepalive without TTL = lease gone = 0) */
    int code;                    /* an error body: the gRPC code (never 0: 2 UNKNOWN when it names none); else 0 */
    char error[200];             /* its message, non-printable bytes as '?', cut to fit */
} mx_etcd_resp_t;

/* Parse a response body.  Returns 0, or -1 when the body is not JSON (or
 * has anything but whitespace after it), not an object, or a field read
 * here has the wrong type: int64 fields come as JSON strings of decimal
 * digits or as JSON integers, anything else (a fraction, a bool, a value
 * out of int64) is refused; JSON null counts as absent (proto3).  JSON
 * integers at either int64 limit are refused too: json-c clamps numbers
 * out of range to those limits.  Keys and values must be standard padded
 * base64.  An error body sets code and error and returns 0.  out is zeroed
 * first; always call mx_etcd_resp_free after (also after -1). */
int mx_etcd_parse(const char *body, size_t len, mx_etcd_resp_t *out);
void mx_etcd_resp_free(mx_etcd_resp_t *r);

/* One event of a watch line: a PUT (no "type") or a DELETE. */
typedef struct mx_etcd_event_s {
    bool deleted;                /* "type":"DELETE"; a DELETE's kv has the key and mod_revision only */
    mx_etcd_kv_t kv;             /* the key after the event (prev_kv is not kept) */
} mx_etcd_event_t;

/* One line of a /v3/watch stream ({"result":{...}}, or an error line). */
typedef struct mx_etcd_watch_msg_s {
    int64_t revision;            /* header.revision (a canceled line may omit it: 0) */
    bool created;                /* the watch is set up */
    bool canceled;               /* the server dropped the watch (it keeps the HTTP stream open) */
    int64_t compact_revision;    /* canceled because history before this is compacted */
    int64_t watch_id;
    mx_etcd_event_t *events;
    size_t n_events;
    int code;                    /* an error line, as for mx_etcd_parse */
    char error[200];
} mx_etcd_watch_msg_t;

/* Parse one line of the watch stream, as mx_etcd_parse (same rules, -1
 * also when the line is neither {"result":{...}} nor an error, or an event
 * has no kv or an unknown type).  Always call mx_etcd_watch_free after. */
int mx_etcd_parse_watch(const char *line, size_t len, mx_etcd_watch_msg_t *out);
void mx_etcd_watch_free(mx_etcd_watch_msg_t *m);

/* Request bodies: malloc'd NUL-terminated JSON, NULL on ENOMEM (or a key
 * or value too long to encode, or an unknown enum value).  Keys and values
 * are raw bytes (base64-encoded here); int64s are sent as strings. */
char *mx_etcd_req_range(const char *key, size_t klen, const char *range_end, size_t relen); /* range_end NULL: one key */
char *mx_etcd_req_put(const char *key, size_t klen, const char *val, size_t vlen, int64_t lease); /* lease 0: none */
char *mx_etcd_req_delete(const char *key, size_t klen);
char *mx_etcd_req_lease_grant(int64_t ttl_s);
char *mx_etcd_req_lease_id(int64_t id);                /* {"ID":".."}: keepalive, revoke */
char *mx_etcd_req_watch(const char *key, size_t klen, const char *range_end, size_t relen,
                        int64_t start_revision, bool prev_kv);  /* start 0: omitted */

enum { MX_ETCD_CMP_CREATE, MX_ETCD_CMP_MOD, MX_ETCD_CMP_VERSION, MX_ETCD_CMP_VALUE };

/* One compare of a txn; its result is always EQUAL. */
typedef struct mx_etcd_cmp_s {
    const char *key;
    size_t klen;
    int target;                  /* MX_ETCD_CMP_* */
    int64_t rev;                 /* create_revision / mod_revision / version */
    const char *value;           /* MX_ETCD_CMP_VALUE */
    size_t vlen;
} mx_etcd_cmp_t;

enum { MX_ETCD_OP_PUT, MX_ETCD_OP_RANGE, MX_ETCD_OP_DELETE };

/* One operation of a txn's success or failure branch. */
typedef struct mx_etcd_op_s {
    int kind;                    /* MX_ETCD_OP_* */
    const char *key;
    size_t klen;
    const char *value;           /* PUT */
    size_t vlen;
    int64_t lease;               /* PUT, 0 none */
} mx_etcd_op_t;

char *mx_etcd_req_txn(const mx_etcd_cmp_t *cmp, size_t ncmp, const mx_etcd_op_t *ok, size_t nok,
                      const mx_etcd_op_t *fail, size_t nfail);

/* range_end of a prefix (etcd's rule: last byte + 1, dropping trailing 0xff
 * bytes; all 0xff or empty -> "\0" = to the end).  out has room for len
 * bytes, and at least 1; returns the length written. */
size_t mx_etcd_prefix_end(const char *prefix, size_t len, char *out);

/* manx's own values (coord-spec.md).  The writer key's value: */
typedef struct mx_etcd_writer_s {
    int index;                   /* writeHost index in the dataHost (dnindex.properties) */
    char host[64];               /* its name: instances route by it */
    int64_t epoch;               /* switches recorded + 1 */
    char by[128];                /* instance that proposed it ("" absent) */
    char why[32];                /* "heartbeat", "console", ... ("" absent) */
} mx_etcd_writer_t;

/* {"index":1,"host":"hostM2","epoch":2,"by":"manx-a","why":"heartbeat"}
 * (by and why omitted when empty).  NULL on ENOMEM. */
char *mx_etcd_writer_json(const mx_etcd_writer_t *w);
/* 0, or -1: not a JSON object, index missing or negative or over INT_MAX,
 * host missing or empty, a name that does not fit (or holds a NUL), a
 * field of the wrong type.  Unknown fields are ignored.  w is zeroed. */
int mx_etcd_writer_parse(const char *json, size_t len, mx_etcd_writer_t *w);

#define MX_ETCD_VIEW_MAX 16

/* A view key's value: how one instance sees a dataHost's hosts. */
typedef struct mx_etcd_view_s {
    size_t n;
    char name[MX_ETCD_VIEW_MAX][64];
    int status[MX_ETCD_VIEW_MAX];   /* 0 UNKNOWN, 1 UP, 2 DOWN (as router/health.h) */
} mx_etcd_view_t;

/* {"hosts":{"hostM1":"DOWN",...}}; NULL on ENOMEM, n over the maximum or
 * a status that is not 0-2. */
char *mx_etcd_view_json(const mx_etcd_view_t *v);
/* 0, or -1: not an object, "hosts" missing or not an object, more than
 * MX_ETCD_VIEW_MAX hosts, an empty name or one that does not fit, a status
 * other than "UP", "DOWN", "UNKNOWN".  Hosts come in the JSON's order. */
int mx_etcd_view_parse(const char *json, size_t len, mx_etcd_view_t *v);

#endif
