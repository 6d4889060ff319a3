/* dnindex.properties parsing and formatting: Mycat's own file, comments,
 * stale and corrupt entries reported and ignored. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "router/dnindex.h"
#include "test.h"

static char warnings[2048];

static void warn(void *arg, int line, const char *msg)
{
    (void)arg;
    size_t n = strlen(warnings);
    snprintf(warnings + n, sizeof(warnings) - n, "%d:%s|", line, msg);
}

static mx_host_t hosts[3];
static mx_datahost_t dhs[2];
static mx_config_t cfg;

static void setup(void)
{
    strcpy(dhs[0].name, "localhost1");
    dhs[0].write_hosts[0] = &hosts[0];
    dhs[0].write_hosts[1] = &hosts[1];
    dhs[0].n_write_hosts = 2;
    strcpy(dhs[1].name, "dh2");
    dhs[1].write_hosts[0] = &hosts[2];
    dhs[1].n_write_hosts = 1;
    cfg.datahosts = dhs;
    cfg.n_datahosts = 2;
}

static int parse(const char *text, int *idx)
{
    warnings[0] = 0;
    idx[0] = idx[1] = 0;
    return mx_dnindex_parse(text, strlen(text), &cfg, idx, warn, NULL);
}

/* A file of `size` bytes of comments whose last line is `last`. */
static void write_padded(const char *path, size_t size, const char *last)
{
    FILE *f = fopen(path, "w");
    size_t n = 0;
    while (n + strlen(last) + 40 < size)
        n += (size_t)fprintf(f, "# %035zu\n", n);
    fputs(last, f);
    fclose(f);
}

/* The whole file counts, however long (Mycat's has no limit); a file too
 * big to be ours is refused, never cut. */
static void test_load(void)
{
    char dir[256], path[512];
    snprintf(dir, sizeof(dir), "%s/manx-test-dnindex-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    ASSERT_TRUE(mkdtemp(dir) != NULL);
    snprintf(path, sizeof(path), "%s/dnindex.properties", dir);
    int idx[2] = {0, 0};

    write_padded(path, 20 * 1024, "localhost1=1\n");
    struct stat st;
    ASSERT_EQ(stat(path, &st), 0);
    ASSERT_TRUE(st.st_size > 20 * 1024 - 64 && st.st_size <= 20 * 1024);
    warnings[0] = 0;
    ASSERT_EQ(mx_dnindex_load(path, &cfg, idx, warn, NULL), 1);
    ASSERT_EQ(idx[0], 1);
    ASSERT_STR_EQ(warnings, "");

    /* Exactly at the limit: read; one byte over: refused, idx untouched. */
    write_padded(path, MX_DNINDEX_MAX_BYTES, "localhost1=0\ndh2=0\n");
    FILE *f = fopen(path, "a");
    while (ftell(f) < MX_DNINDEX_MAX_BYTES)
        fputc('\n', f);
    fclose(f);
    ASSERT_EQ(mx_dnindex_load(path, &cfg, idx, warn, NULL), 2);
    ASSERT_EQ(idx[0], 0);
    idx[0] = 1;
    f = fopen(path, "a");
    fputc('\n', f);
    fclose(f);
    ASSERT_EQ(mx_dnindex_load(path, &cfg, idx, warn, NULL), -EFBIG);
    ASSERT_EQ(idx[0], 1);

    unlink(path);
    ASSERT_EQ(mx_dnindex_load(path, &cfg, idx, warn, NULL), -ENOENT);
    ASSERT_EQ(mkdir(path, 0755), 0);
    ASSERT_EQ(mx_dnindex_load(path, &cfg, idx, warn, NULL), -EISDIR);
    ASSERT_EQ(idx[0], 1);
    rmdir(path);
    rmdir(dir);
}

int main(void)
{
    setup();
    int idx[2];

    /* Mycat's file as it writes it. */
    ASSERT_EQ(parse("#update\n#Tue Sep 12 10:25:35 CST 2023\nlocalhost1=1\n", idx), 1);
    ASSERT_EQ(idx[0], 1);
    ASSERT_STR_EQ(warnings, "");

    /* Spaces, CRLF, '!' comments, ':' separator, no final newline. */
    ASSERT_EQ(parse("! c\r\n  localhost1 : 1 \r\ndh2=0", idx), 2);
    ASSERT_EQ(idx[0], 1);
    ASSERT_EQ(idx[1], 0);

    /* Stale or corrupt entries: reported with their line, ignored. */
    ASSERT_EQ(parse("#update\nnosuch=1\nlocalhost1=2\nlocalhost1=-1\nlocalhost1=x\ngarbage\n", idx), 0);
    ASSERT_EQ(idx[0], 0);
    ASSERT_STR_EQ(warnings, "2:unknown dataHost 'nosuch'|3:localhost1: index '2' out of range (0..1)|"
                            "4:localhost1: index '-1' out of range (0..1)|5:localhost1: index 'x' out of range (0..1)|"
                            "6:not a name=index line|");
    ASSERT_EQ(parse("localhost1=99999999999999999999\nlocalhost1=\n", idx), 0);
    ASSERT_EQ(parse("", idx), 0);

    /* Format, then parse back. */
    char buf[256];
    int w[2] = {1, 0};
    int n = mx_dnindex_format(buf, sizeof(buf), &cfg, w, 0);
    ASSERT_TRUE(n > 0);
    ASSERT_STR_EQ(buf, "#update\n#Thu Jan 01 00:00:00 UTC 1970\nlocalhost1=1\ndh2=0\n");
    ASSERT_EQ(parse(buf, idx), 2);
    ASSERT_EQ(idx[0], 1);
    ASSERT_EQ(mx_dnindex_format(buf, 20, &cfg, w, 0), -1);
    ASSERT_TRUE(mx_dnindex_format_cap(&cfg) >= (size_t)n);

    test_load();
    return mx_test_summary("dnindex");
}
