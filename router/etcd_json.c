/* The etcd v3 JSON gateway's request and response bodies (see etcd_json.h):
 * json-c for the JSON, OpenSSL's EVP_EncodeBlock/EVP_DecodeBlock for the
 * base64 of keys and values.  Everything here is pure; parsers validate
 * every field they read and treat the proto3 defaults (an omitted field)
 * as zero, false, "" or PUT. */
#include "router/etcd_json.h"

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <openssl/evp.h>

/* gRPC's UNKNOWN: the code of an error body that names none, so that an
 * error is never mistaken for a success. */
#define GRPC_UNKNOWN 2

/* ---- reading ------------------------------------------------------------ */

/* The JSON object in text[0..len), or NULL.  Strict mode refuses what the
 * gateway never sends (trailing commas, leading zeros, text after the
 * value, invalid UTF-8; json-c 0.16 still takes a 'single-quoted' object
 * key, which names the same field).  json-c stops at a NUL byte and would
 * call the rest "trailing", so only whitespace may follow the value. */
static json_object *parse_object(const char *text, size_t len)
{
    if (len > INT_MAX)
        return NULL;
    json_tokener *tok = json_tokener_new();
    if (!tok)
        return NULL;
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    json_object *o = json_tokener_parse_ex(tok, text, (int)len);
    size_t end = json_tokener_get_parse_end(tok);
    bool ok = o && json_tokener_get_error(tok) == json_tokener_success && json_object_is_type(o, json_type_object);
    json_tokener_free(tok);
    while (ok && end < len) {
        char c = text[end++];
        ok = c == ' ' || c == '\t' || c == '\r' || c == '\n';
    }
    if (!ok) {
        json_object_put(o);
        return NULL;
    }
    return o;
}

/* Field `name` of o, or NULL when absent or JSON null (both mean the
 * proto3 default). */
static json_object *field(json_object *o, const char *name)
{
    json_object *v = NULL;
    if (!json_object_object_get_ex(o, name, &v))
        return NULL;
    return v;
}

/* A decimal int64 in a JSON string: an optional '-' and digits, nothing
 * else, and no overflow. */
static int parse_decimal(const char *s, size_t len, int64_t *out)
{
    bool neg = len > 0 && s[0] == '-';
    size_t i = neg ? 1 : 0;
    if (i == len)
        return -1;
    /* Accumulate negatively: INT64_MIN has no positive counterpart. */
    int64_t v = 0;
    for (; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        int d = s[i] - '0';
        if (v < (INT64_MIN + d) / 10)
            return -1;
        v = v * 10 - d;
    }
    if (!neg) {
        if (v == INT64_MIN)
            return -1;
        v = -v;
    }
    *out = v;
    return 0;
}

/* Field `name` as an int64 (absent: *out unchanged, i.e. 0).  The gateway
 * sends strings; integers are taken too, except at the int64 limits,
 * where json-c puts every number out of range. */
static int get_i64(json_object *o, const char *name, int64_t *out)
{
    json_object *v = field(o, name);
    if (!v)
        return 0;
    if (json_object_is_type(v, json_type_string))
        return parse_decimal(json_object_get_string(v), (size_t)json_object_get_string_len(v), out);
    if (!json_object_is_type(v, json_type_int))
        return -1;
    int64_t x = json_object_get_int64(v);
    if (x == INT64_MAX || x == INT64_MIN)
        return -1;
    *out = x;
    return 0;
}

static int get_bool(json_object *o, const char *name, bool *out)
{
    json_object *v = field(o, name);
    if (!v)
        return 0;
    if (!json_object_is_type(v, json_type_boolean))
        return -1;
    *out = json_object_get_boolean(v);
    return 0;
}

/* v is the JSON string lit exactly (json-c strings may hold NULs). */
static bool str_is(json_object *v, const char *lit)
{
    return json_object_is_type(v, json_type_string) && (size_t)json_object_get_string_len(v) == strlen(lit) &&
           memcmp(json_object_get_string(v), lit, strlen(lit)) == 0;
}

/* Field `name` when it is of type t (absent: NULL, 0); another type: -1. */
static int get_typed(json_object *o, const char *name, json_type t, json_object **out)
{
    *out = field(o, name);
    return *out && !json_object_is_type(*out, t) ? -1 : 0;
}

/* Standard base64 with padding, as the gateway writes bytes.  EVP_DecodeBlock
 * alone would skip whitespace and count padding as data, so the text is
 * checked first and the padding taken off after. */
static int b64_decode(const char *in, size_t n, char **out, size_t *out_len)
{
    if (n % 4 != 0 || n > INT_MAX)
        return -1;
    size_t pad = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)in[i];
        if (c == '=' && i >= n - 2) {
            pad++;
            continue;
        }
        /* A data byte after '=' is refused here; ranges, not isalnum(),
         * which follows the locale. */
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
        if (pad || !ok)
            return -1;
    }
    char *buf = malloc(n / 4 * 3 + 1);
    if (!buf)
        return -1;
    int got = n ? EVP_DecodeBlock((unsigned char *)buf, (const unsigned char *)in, (int)n) : 0;
    if (got < 0 || (size_t)got < pad) {
        free(buf);
        return -1;
    }
    *out_len = (size_t)got - pad;
    buf[*out_len] = '\0';
    *out = buf;
    return 0;
}

/* Field `name` as base64-decoded bytes, "" when absent. */
static int get_bytes(json_object *o, const char *name, char **out, size_t *out_len)
{
    json_object *v = field(o, name);
    if (!v) {
        *out = strdup("");
        *out_len = 0;
        return *out ? 0 : -1;
    }
    if (!json_object_is_type(v, json_type_string))
        return -1;
    return b64_decode(json_object_get_string(v), (size_t)json_object_get_string_len(v), out, out_len);
}

static int parse_kv(json_object *o, mx_etcd_kv_t *kv)
{
    if (!json_object_is_type(o, json_type_object))
        return -1;
    if (get_bytes(o, "key", &kv->key, &kv->key_len) < 0 || get_bytes(o, "value", &kv->value, &kv->value_len) < 0)
        return -1;
    if (get_i64(o, "create_revision", &kv->create_revision) < 0 ||
        get_i64(o, "mod_revision", &kv->mod_revision) < 0 || get_i64(o, "version", &kv->version) < 0 ||
        get_i64(o, "lease", &kv->lease) < 0)
        return -1;
    return 0;
}

static void kv_free(mx_etcd_kv_t *kv)
{
    free(kv->key);
    free(kv->value);
    kv->key = kv->value = NULL;
}

/* Append the kvs of array `arr` to *kvs.  Each slot is counted before it
 * is filled, so a failure half way leaves everything freeable. */
static int add_kvs(json_object *arr, mx_etcd_kv_t **kvs, size_t *n)
{
    size_t more = json_object_array_length(arr);
    if (more == 0)
        return 0;
    if (more > SIZE_MAX / sizeof(**kvs) - *n)
        return -1;
    mx_etcd_kv_t *grown = realloc(*kvs, (*n + more) * sizeof(**kvs));
    if (!grown)
        return -1;
    *kvs = grown;
    for (size_t i = 0; i < more; i++) {
        mx_etcd_kv_t *kv = &grown[(*n)++];
        memset(kv, 0, sizeof(*kv));
        if (parse_kv(json_object_array_get_idx(arr, i), kv) < 0)
            return -1;
    }
    return 0;
}

/* A message for a log line: printable ASCII only, cut to fit. */
static void copy_message(char *dst, size_t cap, const char *src)
{
    size_t i = 0;
    for (; src[i] && i + 1 < cap; i++)
        dst[i] = (src[i] >= 0x20 && src[i] < 0x7f) ? src[i] : '?';
    dst[i] = '\0';
}

/* An error body: the unary form {"error":"..","message":"..","code":5},
 * the stream form {"error":{"grpc_code":14,"message":".."}}, or a bare
 * {"code":5,"message":".."}.  Sets *code (never 0 for an error) and msg;
 * leaves both alone when o is no error. */
static int parse_error(json_object *o, int *code, char *msg, size_t cap)
{
    json_object *err = field(o, "error");
    json_object *where = o;
    const char *code_name = "code";
    if (err && json_object_is_type(err, json_type_object)) {
        where = err;
        code_name = field(err, "grpc_code") ? "grpc_code" : "code";
    } else if (err && !json_object_is_type(err, json_type_string)) {
        return -1;
    }
    int64_t c = 0;
    json_object *m;
    if (get_i64(where, code_name, &c) < 0 || c < 0 || c > INT_MAX || get_typed(where, "message", json_type_string, &m) < 0)
        return -1;
    if (!err && c == 0)
        return 0;
    *code = c ? (int)c : GRPC_UNKNOWN;
    if (m)
        copy_message(msg, cap, json_object_get_string(m));
    else if (err && json_object_is_type(err, json_type_string))
        copy_message(msg, cap, json_object_get_string(err));
    return 0;
}

static int get_header_revision(json_object *o, int64_t *rev)
{
    json_object *h;
    if (get_typed(o, "header", json_type_object, &h) < 0)
        return -1;
    return h ? get_i64(h, "revision", rev) : 0;
}

/* A txn's responses: every response_range's kvs, in order.  Puts and
 * deletes carry nothing manx reads. */
static int add_txn_kvs(json_object *responses, mx_etcd_resp_t *out)
{
    size_t n = json_object_array_length(responses);
    for (size_t i = 0; i < n; i++) {
        json_object *r = json_object_array_get_idx(responses, i), *range, *kvs;
        if (!json_object_is_type(r, json_type_object) ||
            get_typed(r, "response_range", json_type_object, &range) < 0)
            return -1;
        if (!range)
            continue;
        if (get_typed(range, "kvs", json_type_array, &kvs) < 0 || (kvs && add_kvs(kvs, &out->kvs, &out->n_kvs) < 0))
            return -1;
    }
    return 0;
}

int mx_etcd_parse(const char *body, size_t len, mx_etcd_resp_t *out)
{
    memset(out, 0, sizeof(*out));
    json_object *root = parse_object(body, len);
    if (!root)
        return -1;
    int rc = -1;
    json_object *o = root, *result, *kvs, *responses;
    if (parse_error(root, &out->code, out->error, sizeof(out->error)) < 0 ||
        get_typed(root, "result", json_type_object, &result) < 0)
        goto done;
    if (result) {
        o = result;
        if (parse_error(o, &out->code, out->error, sizeof(out->error)) < 0)
            goto done;
    }
    if (get_header_revision(o, &out->revision) < 0 || get_bool(o, "succeeded", &out->succeeded) < 0 ||
        get_i64(o, "ID", &out->id) < 0 || get_i64(o, "TTL", &out->ttl) < 0 ||
        get_typed(o, "kvs", json_type_array, &kvs) < 0 || get_typed(o, "responses", json_type_array, &responses) < 0)
        goto done;
    if (kvs && add_kvs(kvs, &out->kvs, &out->n_kvs) < 0)
        goto done;
    if (responses && add_txn_kvs(responses, out) < 0)
        goto done;
    rc = 0;
done:
    json_object_put(root);
    return rc;
}

void mx_etcd_resp_free(mx_etcd_resp_t *r)
{
    for (size_t i = 0; i < r->n_kvs; i++)
        kv_free(&r->kvs[i]);
    free(r->kvs);
    r->kvs = NULL;
    r->n_kvs = 0;
}

static int parse_event(json_object *o, mx_etcd_event_t *ev)
{
    json_object *type, *kv;
    if (!json_object_is_type(o, json_type_object) || get_typed(o, "type", json_type_string, &type) < 0 ||
        get_typed(o, "kv", json_type_object, &kv) < 0 || !kv)
        return -1;
    if (type && str_is(type, "DELETE"))
        ev->deleted = true;
    else if (type && !str_is(type, "PUT"))
        return -1;
    return parse_kv(kv, &ev->kv);
}

static int add_events(json_object *arr, mx_etcd_watch_msg_t *out)
{
    size_t n = json_object_array_length(arr);
    if (n == 0)
        return 0;
    if (n > SIZE_MAX / sizeof(*out->events))
        return -1;
    out->events = calloc(n, sizeof(*out->events));
    if (!out->events)
        return -1;
    for (size_t i = 0; i < n; i++) {
        out->n_events++;
        if (parse_event(json_object_array_get_idx(arr, i), &out->events[i]) < 0)
            return -1;
    }
    return 0;
}

int mx_etcd_parse_watch(const char *line, size_t len, mx_etcd_watch_msg_t *out)
{
    memset(out, 0, sizeof(*out));
    json_object *root = parse_object(line, len);
    if (!root)
        return -1;
    int rc = -1;
    json_object *o, *events;
    if (parse_error(root, &out->code, out->error, sizeof(out->error)) < 0 ||
        get_typed(root, "result", json_type_object, &o) < 0)
        goto done;
    if (!o) {
        rc = out->code ? 0 : -1;
        goto done;
    }
    if (parse_error(o, &out->code, out->error, sizeof(out->error)) < 0 ||
        get_header_revision(o, &out->revision) < 0 || get_bool(o, "created", &out->created) < 0 ||
        get_bool(o, "canceled", &out->canceled) < 0 || get_i64(o, "compact_revision", &out->compact_revision) < 0 ||
        get_i64(o, "watch_id", &out->watch_id) < 0 || get_typed(o, "events", json_type_array, &events) < 0)
        goto done;
    if (events && add_events(events, out) < 0)
        goto done;
    rc = 0;
done:
    json_object_put(root);
    return rc;
}

void mx_etcd_watch_free(mx_etcd_watch_msg_t *m)
{
    for (size_t i = 0; i < m->n_events; i++)
        kv_free(&m->events[i].kv);
    free(m->events);
    m->events = NULL;
    m->n_events = 0;
}

/* ---- writing ------------------------------------------------------------ */

/* Add val to o under key; val is consumed either way.  A NULL val (its
 * constructor ran out of memory) fails. */
static int put(json_object *o, const char *key, json_object *val)
{
    if (!o || !val || json_object_object_add(o, key, val) < 0) {
        json_object_put(val);
        return -1;
    }
    return 0;
}

static int append(json_object *arr, json_object *val)
{
    if (!arr || !val || json_object_array_add(arr, val) < 0) {
        json_object_put(val);
        return -1;
    }
    return 0;
}

static int put_str(json_object *o, const char *key, const char *s)
{
    return put(o, key, json_object_new_string(s));
}

/* bytes as standard padded base64 (what the gateway decodes). */
static int put_bytes(json_object *o, const char *key, const char *data, size_t len)
{
    if (len > (size_t)INT_MAX / 4 * 3 - 3)
        return -1;
    size_t cap = (len + 2) / 3 * 4 + 1;
    unsigned char *b64 = malloc(cap);
    if (!b64)
        return -1;
    int n = EVP_EncodeBlock(b64, (const unsigned char *)data, (int)len);
    int rc = put(o, key, json_object_new_string_len((const char *)b64, n));
    free(b64);
    return rc;
}

/* int64s go as strings: proto3's JSON form, and what the gateway sends. */
static int put_i64(json_object *o, const char *key, int64_t v)
{
    char buf[24];
    snprintf(buf, sizeof(buf), "%" PRId64, v);
    return put_str(o, key, buf);
}

/* The text of o, malloc'd, and o released.  No slash escaping: base64
 * holds '/', and the verified requests of etcd-plan.md 2.2 have none. */
static char *finish(json_object *o, int rc)
{
    char *text = NULL;
    if (o && rc == 0) {
        const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
        text = s ? strdup(s) : NULL;
    }
    json_object_put(o);
    return text;
}

/* {"key":..,"range_end":..} in o (range_end only when given). */
static int put_range(json_object *o, const char *key, size_t klen, const char *range_end, size_t relen)
{
    if (put_bytes(o, "key", key, klen) < 0)
        return -1;
    return range_end ? put_bytes(o, "range_end", range_end, relen) : 0;
}

char *mx_etcd_req_range(const char *key, size_t klen, const char *range_end, size_t relen)
{
    json_object *o = json_object_new_object();
    return finish(o, put_range(o, key, klen, range_end, relen));
}

/* A put's fields in o: key, value, and the lease when there is one. */
static int put_put(json_object *o, const char *key, size_t klen, const char *val, size_t vlen, int64_t lease)
{
    if (put_bytes(o, "key", key, klen) < 0 || put_bytes(o, "value", val, vlen) < 0)
        return -1;
    return lease ? put_i64(o, "lease", lease) : 0;
}

char *mx_etcd_req_put(const char *key, size_t klen, const char *val, size_t vlen, int64_t lease)
{
    json_object *o = json_object_new_object();
    return finish(o, put_put(o, key, klen, val, vlen, lease));
}

char *mx_etcd_req_delete(const char *key, size_t klen)
{
    json_object *o = json_object_new_object();
    return finish(o, put_bytes(o, "key", key, klen));
}

char *mx_etcd_req_lease_grant(int64_t ttl_s)
{
    json_object *o = json_object_new_object();
    return finish(o, put_i64(o, "TTL", ttl_s));
}

char *mx_etcd_req_lease_id(int64_t id)
{
    json_object *o = json_object_new_object();
    return finish(o, put_i64(o, "ID", id));
}

char *mx_etcd_req_watch(const char *key, size_t klen, const char *range_end, size_t relen,
                        int64_t start_revision, bool prev_kv)
{
    json_object *o = json_object_new_object(), *create = json_object_new_object();
    int rc = put_range(create, key, klen, range_end, relen);
    if (rc == 0 && start_revision)
        rc = put_i64(create, "start_revision", start_revision);
    if (rc == 0 && prev_kv)
        rc = put(create, "prev_kv", json_object_new_boolean(1));
    if (rc == 0)
        rc = put(o, "create_request", create);
    else
        json_object_put(create);
    return finish(o, rc);
}

static json_object *compare(const mx_etcd_cmp_t *c)
{
    static const char *const targets[] = {"CREATE", "MOD", "VERSION", "VALUE"};
    static const char *const fields[] = {"create_revision", "mod_revision", "version", "value"};
    if (c->target < MX_ETCD_CMP_CREATE || c->target > MX_ETCD_CMP_VALUE)
        return NULL;
    json_object *o = json_object_new_object();
    int rc = put_bytes(o, "key", c->key, c->klen);
    if (rc == 0)
        rc = put_str(o, "target", targets[c->target]);
    if (rc == 0)
        rc = put_str(o, "result", "EQUAL");
    if (rc == 0)
        rc = c->target == MX_ETCD_CMP_VALUE ? put_bytes(o, fields[c->target], c->value, c->vlen)
                                            : put_i64(o, fields[c->target], c->rev);
    if (rc < 0) {
        json_object_put(o);
        return NULL;
    }
    return o;
}

/* {"request_put":{..}}, {"request_range":{..}} or {"request_delete_range":{..}}. */
static json_object *request_op(const mx_etcd_op_t *op)
{
    json_object *inner = json_object_new_object();
    int rc;
    const char *name;
    switch (op->kind) {
    case MX_ETCD_OP_PUT:
        name = "request_put";
        rc = put_put(inner, op->key, op->klen, op->value, op->vlen, op->lease);
        break;
    case MX_ETCD_OP_RANGE:
        name = "request_range";
        rc = put_bytes(inner, "key", op->key, op->klen);
        break;
    case MX_ETCD_OP_DELETE:
        name = "request_delete_range";
        rc = put_bytes(inner, "key", op->key, op->klen);
        break;
    default:
        json_object_put(inner);
        return NULL;
    }
    json_object *o = json_object_new_object();
    if (rc < 0 || put(o, name, inner) < 0) {
        if (rc < 0)
            json_object_put(inner);
        json_object_put(o);
        return NULL;
    }
    return o;
}

static int put_ops(json_object *o, const char *key, const mx_etcd_op_t *ops, size_t n)
{
    json_object *arr = json_object_new_array();
    for (size_t i = 0; arr && i < n; i++) {
        if (append(arr, request_op(&ops[i])) < 0) {
            json_object_put(arr);
            return -1;
        }
    }
    return put(o, key, arr);
}

char *mx_etcd_req_txn(const mx_etcd_cmp_t *cmp, size_t ncmp, const mx_etcd_op_t *ok, size_t nok,
                      const mx_etcd_op_t *fail, size_t nfail)
{
    json_object *o = json_object_new_object(), *cmps = json_object_new_array();
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < ncmp; i++)
        rc = append(cmps, compare(&cmp[i]));
    if (rc == 0)
        rc = put(o, "compare", cmps);
    else
        json_object_put(cmps);
    if (rc == 0)
        rc = put_ops(o, "success", ok, nok);
    if (rc == 0)
        rc = put_ops(o, "failure", fail, nfail);
    return finish(o, rc);
}

size_t mx_etcd_prefix_end(const char *prefix, size_t len, char *out)
{
    for (size_t i = len; i-- > 0;) {
        unsigned char c = (unsigned char)prefix[i];
        if (c < 0xff) {
            memcpy(out, prefix, i);
            out[i] = (char)(c + 1);
            return i + 1;
        }
    }
    out[0] = '\0';
    return 1;
}

/* ---- manx's values ------------------------------------------------------ */

/* A name from a fixed char array, never read past its end. */
static int put_name(json_object *o, const char *key, const char *name, size_t cap)
{
    return put(o, key, json_object_new_string_len(name, (int)strnlen(name, cap)));
}

char *mx_etcd_writer_json(const mx_etcd_writer_t *w)
{
    json_object *o = json_object_new_object();
    int rc = put(o, "index", json_object_new_int(w->index));
    if (rc == 0)
        rc = put_name(o, "host", w->host, sizeof(w->host));
    if (rc == 0)
        rc = put(o, "epoch", json_object_new_int64(w->epoch));
    if (rc == 0 && w->by[0])
        rc = put_name(o, "by", w->by, sizeof(w->by));
    if (rc == 0 && w->why[0])
        rc = put_name(o, "why", w->why, sizeof(w->why));
    return finish(o, rc);
}

/* String field `name` into dst[cap]: absent leaves "", a non-string, a NUL
 * inside or a name too long for dst is -1. */
static int get_name(json_object *o, const char *name, char *dst, size_t cap)
{
    json_object *v;
    if (get_typed(o, name, json_type_string, &v) < 0)
        return -1;
    if (!v)
        return 0;
    size_t n = (size_t)json_object_get_string_len(v);
    const char *s = json_object_get_string(v);
    if (n >= cap || strlen(s) != n)
        return -1;
    memcpy(dst, s, n + 1);
    return 0;
}

int mx_etcd_writer_parse(const char *json, size_t len, mx_etcd_writer_t *w)
{
    memset(w, 0, sizeof(*w));
    json_object *o = parse_object(json, len);
    if (!o)
        return -1;
    int64_t index = -1;
    int rc = -1;
    if (get_i64(o, "index", &index) == 0 && index >= 0 && index <= INT_MAX &&
        get_i64(o, "epoch", &w->epoch) == 0 && get_name(o, "host", w->host, sizeof(w->host)) == 0 && w->host[0] &&
        get_name(o, "by", w->by, sizeof(w->by)) == 0 && get_name(o, "why", w->why, sizeof(w->why)) == 0) {
        w->index = (int)index;
        rc = 0;
    }
    json_object_put(o);
    return rc;
}

static const char *const status_names[] = {"UNKNOWN", "UP", "DOWN"};

char *mx_etcd_view_json(const mx_etcd_view_t *v)
{
    if (v->n > MX_ETCD_VIEW_MAX)
        return NULL;
    json_object *o = json_object_new_object(), *hosts = json_object_new_object();
    int rc = hosts ? 0 : -1;
    for (size_t i = 0; rc == 0 && i < v->n; i++) {
        if (v->status[i] < 0 || v->status[i] > 2 || memchr(v->name[i], '\0', sizeof(v->name[i])) == NULL)
            rc = -1;
        else
            rc = put_str(hosts, v->name[i], status_names[v->status[i]]);
    }
    if (rc == 0)
        rc = put(o, "hosts", hosts);
    else
        json_object_put(hosts);
    return finish(o, rc);
}

int mx_etcd_view_parse(const char *json, size_t len, mx_etcd_view_t *v)
{
    memset(v, 0, sizeof(*v));
    json_object *o = parse_object(json, len);
    if (!o)
        return -1;
    json_object *hosts;
    int rc = get_typed(o, "hosts", json_type_object, &hosts) == 0 && hosts ? 0 : -1;
    if (rc == 0) {
        json_object_object_foreach(hosts, name, status)
        {
            size_t n = strlen(name);
            int s = -1;
            for (int k = 0; k < 3; k++)
                if (str_is(status, status_names[k]))
                    s = k;
            if (v->n == MX_ETCD_VIEW_MAX || n == 0 || n >= sizeof(v->name[0]) || s < 0) {
                rc = -1;
                break;
            }
            memcpy(v->name[v->n], name, n + 1);
            v->status[v->n++] = s;
        }
    }
    json_object_put(o);
    return rc;
}
