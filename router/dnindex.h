/* Mycat's dnindex.properties: which writeHost of each dataHost is active.
 * Parsing and formatting only (pure); health.c reads and writes the file. */
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

/* Write the file's content in Mycat's format ("#update", a date comment,
 * then "name=index" per dataHost) into buf.  Returns its length, or -1 if
 * cap is too small. */
int mx_dnindex_format(char *buf, size_t cap, const mx_config_t *cfg, const int *idx, time_t now);

#endif
