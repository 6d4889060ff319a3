/* Mycat's dnindex.properties: which writeHost of each dataHost is active.
 * Parsing and formatting (pure), and reading the whole file; health.c
 * writes it. */
#ifndef MX_ROUTER_DNINDEX_H
#define MX_ROUTER_DNINDEX_H

#include <stddef.h>
#include <time.h>

#include "conf/conf.h"

typedef void (*mx_dnindex_warn_cb)(void *arg, int line, const char *msg);

/* Apply the "name=index" lines of `text` to out[] (one slot per config
 * dataHost, in config order).  Comments ('#', '!'), blank lines and
 * surrounding spaces are allowed.  An unknown dataHost, an index out of
 * range or a malformed line is reported through warn (with its line
 * number) and ignored.  Returns the number of entries applied. */
int mx_dnindex_parse(const char *text, size_t len, const mx_config_t *cfg, int *out,
                     mx_dnindex_warn_cb warn, void *arg);

/* The largest dnindex.properties manx reads.  Mycat's file is one short
 * line per dataHost; a bigger file is not one manx wrote, and reading only
 * its beginning would silently lose the entries after the cut. */
#define MX_DNINDEX_MAX_BYTES (1024 * 1024)

/* Read the file at `path` whole and apply it to out[] as mx_dnindex_parse
 * does.  Returns the number of entries applied, or a negative errno with
 * out[] untouched: -ENOENT no file, -EFBIG larger than
 * MX_DNINDEX_MAX_BYTES, -EISDIR/-EINVAL not a regular file, or what
 * open/read failed with. */
int mx_dnindex_load(const char *path, const mx_config_t *cfg, int *out, mx_dnindex_warn_cb warn, void *arg);

/* An upper bound of mx_dnindex_format's output for cfg (a buffer size). */
size_t mx_dnindex_format_cap(const mx_config_t *cfg);

/* Write the file's content in Mycat's format ("#update", a date comment,
 * then "name=index" per dataHost) into buf.  Returns its length, or -1 if
 * cap is too small. */
int mx_dnindex_format(char *buf, size_t cap, const mx_config_t *cfg, const int *idx, time_t now);

#endif
