/* dnindex.properties parsing and formatting: Mycat's own file, comments,
 * stale and corrupt entries reported and ignored. */
#include <stdlib.h>

#include <stdio.h>
#include <string.h>

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
    return mx_test_summary("dnindex");
}
