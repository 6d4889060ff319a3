/* Fuzz driver for router/etcd_json.c: every input goes to the four parsers
 * of what etcd sends (a response body, a watch line, the writer and view
 * values other instances wrote).  Besides not crashing or reading past the
 * input: decoded keys and values are NUL-terminated at their length, and a
 * writer or view that parses is written back and parses to the same. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "router/etcd_json.h"

static void check_kv(const mx_etcd_kv_t *kv)
{
    if (!kv->key || !kv->value || kv->key[kv->key_len] != '\0' || kv->value[kv->value_len] != '\0')
        __builtin_trap();
    /* What was read can be sent back: the builders take any bytes. */
    char *req = mx_etcd_req_put(kv->key, kv->key_len, kv->value, kv->value_len, kv->lease);
    free(req);
}

static void writer(const char *s, size_t n)
{
    mx_etcd_writer_t w, back;
    if (mx_etcd_writer_parse(s, n, &w) < 0)
        return;
    char *text = mx_etcd_writer_json(&w);
    if (!text)
        return;
    if (mx_etcd_writer_parse(text, strlen(text), &back) < 0 || back.index != w.index || back.epoch != w.epoch ||
        strcmp(back.host, w.host) != 0 || strcmp(back.by, w.by) != 0 || strcmp(back.why, w.why) != 0)
        __builtin_trap();
    free(text);
}

static void view(const char *s, size_t n)
{
    mx_etcd_view_t v, back;
    if (mx_etcd_view_parse(s, n, &v) < 0)
        return;
    char *text = mx_etcd_view_json(&v);
    if (!text)
        return;
    if (mx_etcd_view_parse(text, strlen(text), &back) < 0 || back.n != v.n)
        __builtin_trap();
    for (size_t i = 0; i < v.n; i++)
        if (strcmp(back.name[i], v.name[i]) != 0 || back.status[i] != v.status[i])
            __builtin_trap();
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    mx_etcd_resp_t r;
    if (mx_etcd_parse(s, size, &r) == 0) {
        for (size_t i = 0; i < r.n_kvs; i++)
            check_kv(&r.kvs[i]);
        if (r.code < 0)
            __builtin_trap();
    }
    mx_etcd_resp_free(&r);
    if (r.kvs || r.n_kvs)
        __builtin_trap();

    mx_etcd_watch_msg_t m;
    if (mx_etcd_parse_watch(s, size, &m) == 0)
        for (size_t i = 0; i < m.n_events; i++)
            check_kv(&m.events[i].kv);
    mx_etcd_watch_free(&m);

    writer(s, size);
    view(s, size);
    return 0;
}
