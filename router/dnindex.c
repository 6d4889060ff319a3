/* dnindex.properties, the file Mycat keeps the active writeHost index of
 * every dataHost in.  manx reads and writes the same format so an operator
 * moving from Mycat keeps the file and the habit of editing it. */
#include "dnindex.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int find_datahost(const mx_config_t *cfg, const char *name, size_t len)
{
    for (size_t i = 0; i < cfg->n_datahosts; i++)
        if (strlen(cfg->datahosts[i].name) == len && memcmp(cfg->datahosts[i].name, name, len) == 0)
            return (int)i;
    return -1;
}

static void trim(const char **s, const char **e)
{
    while (*s < *e && (**s == ' ' || **s == '\t' || **s == '\r'))
        (*s)++;
    while (*e > *s && ((*e)[-1] == ' ' || (*e)[-1] == '\t' || (*e)[-1] == '\r'))
        (*e)--;
}

int mx_dnindex_parse(const char *text, size_t len, const mx_config_t *cfg, int *out,
                     mx_dnindex_warn_cb warn, void *arg)
{
    const char *p = text, *end = text + len;
    int line = 0, applied = 0;
    char msg[200];
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        const char *s = p, *e = le;
        p = nl ? nl + 1 : end;
        line++;
        trim(&s, &e);
        if (s == e || *s == '#' || *s == '!')
            continue;
        const char *eq = memchr(s, '=', (size_t)(e - s));
        if (!eq)
            eq = memchr(s, ':', (size_t)(e - s));
        if (!eq) {
            snprintf(msg, sizeof(msg), "not a name=index line");
            warn(arg, line, msg);
            continue;
        }
        const char *ks = s, *ke = eq, *vs = eq + 1, *ve = e;
        trim(&ks, &ke);
        trim(&vs, &ve);
        int dh = find_datahost(cfg, ks, (size_t)(ke - ks));
        if (dh < 0) {
            snprintf(msg, sizeof(msg), "unknown dataHost '%.*s'", (int)(ke - ks > 64 ? 64 : ke - ks), ks);
            warn(arg, line, msg);
            continue;
        }
        long v = 0;
        const char *q = vs;
        bool ok = q < ve;
        for (; q < ve && ok; q++) {
            if (*q < '0' || *q > '9' || v > 1000)
                ok = false;
            else
                v = v * 10 + (*q - '0');
        }
        if (!ok || v >= (long)cfg->datahosts[dh].n_write_hosts) {
            snprintf(msg, sizeof(msg), "%s: index '%.*s' out of range (0..%zu)", cfg->datahosts[dh].name,
                     (int)(ve - vs > 20 ? 20 : ve - vs), vs, cfg->datahosts[dh].n_write_hosts - 1);
            warn(arg, line, msg);
            continue;
        }
        out[dh] = (int)v;
        applied++;
    }
    return applied;
}

int mx_dnindex_load(const char *path, const mx_config_t *cfg, int *out, mx_dnindex_warn_cb warn, void *arg)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    struct stat st;
    if (fstat(fd, &st) < 0) {
        int e = -errno;
        close(fd);
        return e;
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
    }
    if (st.st_size > MX_DNINDEX_MAX_BYTES) {
        close(fd);
        return -EFBIG;
    }
    /* Room for one byte more than the limit: a file that grew since
     * fstat() is still refused as too big rather than cut.  Read at start
     * and on SIGHUP only, so the 1 MB buffer is no burden. */
    size_t cap = MX_DNINDEX_MAX_BYTES + 1, len = 0;
    char *buf = malloc(cap);
    if (!buf) {
        close(fd);
        return -ENOMEM;
    }
    for (;;) {
        ssize_t r = read(fd, buf + len, cap - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = -errno;
            free(buf);
            close(fd);
            return e;
        }
        if (r == 0)
            break;
        len += (size_t)r;
        if (len == cap) {
            free(buf);
            close(fd);
            return -EFBIG;
        }
    }
    close(fd);
    int n = mx_dnindex_parse(buf, len, cfg, out, warn, arg);
    free(buf);
    return n;
}

size_t mx_dnindex_format_cap(const mx_config_t *cfg)
{
    /* "#update\n#<date>\n", then "name=index\n" per dataHost. */
    return 128 + cfg->n_datahosts * (MX_NAME_MAX + 16);
}

int mx_dnindex_format(char *buf, size_t cap, const mx_config_t *cfg, const int *idx, time_t now)
{
    struct tm tm;
    char date[64];
    gmtime_r(&now, &tm);
    strftime(date, sizeof(date), "%a %b %d %H:%M:%S UTC %Y", &tm);
    size_t n = 0;
    int w = snprintf(buf, cap, "#update\n#%s\n", date);
    if (w < 0 || (size_t)w >= cap)
        return -1;
    n = (size_t)w;
    for (size_t i = 0; i < cfg->n_datahosts; i++) {
        w = snprintf(buf + n, cap - n, "%s=%d\n", cfg->datahosts[i].name, idx[i]);
        if (w < 0 || (size_t)w >= cap - n)
            return -1;
        n += (size_t)w;
    }
    return (int)n;
}
