/* The heartbeat's state handling that needs no MariaDB server: reading
 * dnindex.properties at start-up, many dataHosts, switch requests from the
 * console, persisting.  Hosts point at a closed port, so every beat fails
 * fast and nothing switches on its own (switch_type = -1). */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "router/dnindex.h"
#include "router/health.h"
#include "test.h"

static char logbuf[65536];

static void test_log(int level, const char *fmt, ...)
{
    (void)level;
    size_t n = strlen(logbuf);
    if (n + 2 >= sizeof(logbuf))
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(logbuf + n, sizeof(logbuf) - n - 1, fmt, ap);
    va_end(ap);
    strcat(logbuf, "\n");
}

static char dir[256];

/* A config of n dataHosts dh0..dh<n-1>, each with the same two writeHosts. */
static mx_config_t *make_config(const char *state_dir, int n)
{
    size_t cap = 4096 + (size_t)n * 128;
    char *text = malloc(cap);
    int len = snprintf(text, cap,
                       "[manx]\nstate_dir = %s\n[user u]\npassword = p\nschemas = s\n"
                       "[schema s]\ndatanode = n\n[datanode n]\ndatahost = dh0\ndatabase = d\n"
                       "[host hA]\naddress = 127.0.0.1:1\nuser = x\npassword = y\n"
                       "[host hB]\naddress = 127.0.0.1:2\nuser = x\npassword = y\n",
                       state_dir);
    for (int i = 0; i < n; i++)
        len += snprintf(text + len, cap - (size_t)len,
                        "[datahost dh%d]\nswitch_type = -1\nwrite_hosts = hA, hB\n"
                        "heartbeat_period = 100ms\n",
                        i);
    char err[512];
    mx_config_t *cfg = mx_conf_load_buffer("test.ini", text, (size_t)len, err, sizeof(err));
    if (!cfg)
        fprintf(stderr, "config: %s\n", err);
    free(text);
    return cfg;
}

static void write_file(const char *path, const char *text, size_t len)
{
    FILE *f = fopen(path, "w");
    fwrite(text, 1, len, f);
    fclose(f);
}

static char *read_text(const char *path)
{
    static char buf[1 << 16];
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = 0;
    return buf;
}

static bool wait_for_text(const char *path, const char *needle)
{
    for (int i = 0; i < 500; i++) {
        const char *t = read_text(path);
        if (t && strstr(t, needle))
            return true;
        usleep(10000);
    }
    return false;
}

/* The index on the last line of a 20 KB file counts (it was cut at 16 KB). */
static void test_big_dnindex(void)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/dnindex.properties", dir);
    size_t cap = 20 * 1024 + 64;
    char *text = malloc(cap);
    size_t n = 0;
    while (n < 20 * 1024)
        n += (size_t)snprintf(text + n, cap - n, "# padding padding padding padding padding padding\n");
    n += (size_t)snprintf(text + n, cap - n, "dh0=1\n");
    write_file(path, text, n);
    free(text);
    mx_config_t *cfg = make_config(dir, 1);
    mx_health_t h;
    logbuf[0] = 0;
    ASSERT_EQ(mx_health_init(&h, cfg, test_log), 0);
    ASSERT_EQ(mx_health_writer(&h, 0), 1);
    mx_health_stop(&h);
    mx_conf_free(cfg);
    unlink(path);
}

/* A file manx cannot read whole stops the start-up: guessing index 0
 * could send writes back to the writeHost the file says was left. */
static void test_unreadable_dnindex(void)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/dnindex.properties", dir);
    size_t n = MX_DNINDEX_MAX_BYTES + 1;
    char *text = malloc(n);
    memset(text, '\n', n);
    write_file(path, text, n);
    free(text);
    mx_config_t *cfg = make_config(dir, 1);
    mx_health_t h;
    logbuf[0] = 0;
    ASSERT_EQ(mx_health_init(&h, cfg, test_log), -EFBIG);
    ASSERT_TRUE(strstr(logbuf, "dnindex.properties: larger than 1048576 bytes") != NULL);
    unlink(path);
    ASSERT_EQ(mkdir(path, 0755), 0);
    logbuf[0] = 0;
    ASSERT_EQ(mx_health_init(&h, cfg, test_log), -EISDIR);
    ASSERT_TRUE(strstr(logbuf, "dnindex.properties: cannot read: Is a directory") != NULL);
    rmdir(path);
    mx_conf_free(cfg);
}

/* No start without a state_dir manx can write in (root passes permission
 * checks, so the blocker is a file where a directory should be). */
static void test_state_dir(void)
{
    char blocker[512], state[600], msg[1024];
    snprintf(blocker, sizeof(blocker), "%s/blocker", dir);
    write_file(blocker, "x\n", 2);
    mx_health_t h;
    snprintf(state, sizeof(state), "%s/state", blocker);
    mx_config_t *cfg = make_config(state, 1);
    logbuf[0] = 0;
    ASSERT_EQ(mx_health_init(&h, cfg, test_log), -ENOTDIR);
    snprintf(msg, sizeof(msg), "state_dir %s: cannot create it: Not a directory (errno 20)", state);
    ASSERT_TRUE(strstr(logbuf, msg) != NULL);
    mx_conf_free(cfg);

    cfg = make_config(blocker, 1);
    logbuf[0] = 0;
    ASSERT_EQ(mx_health_init(&h, cfg, test_log), -ENOTDIR);
    snprintf(msg, sizeof(msg), "state_dir %s: cannot write a file in it: Not a directory (errno 20)", blocker);
    ASSERT_TRUE(strstr(logbuf, msg) != NULL);
    mx_conf_free(cfg);
    unlink(blocker);

    /* A missing state_dir is created, and the probe leaves nothing. */
    snprintf(state, sizeof(state), "%s/a/b", dir);
    cfg = make_config(state, 1);
    ASSERT_EQ(mx_health_init(&h, cfg, test_log), 0);
    mx_datahost_snapshot_t s;
    mx_health_datahost_snapshot(&h, 0, &s);
    ASSERT_EQ(s.active, 0);
    ASSERT_EQ(s.persisted, 0);
    mx_health_stop(&h);
    mx_conf_free(cfg);
    ASSERT_EQ(rmdir(state), 0);
    snprintf(state, sizeof(state), "%s/a", dir);
    ASSERT_EQ(rmdir(state), 0);
}

/* More dataHosts than the 256 slots health.c once kept on its stack. */
static void test_many_datahosts(void)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/dnindex.properties", dir);
    write_file(path, "dh299=1\ndh3=1\n", 14);
    mx_config_t *cfg = make_config(dir, 300);
    ASSERT_TRUE(cfg != NULL);
    if (!cfg)
        return;
    mx_health_t h;
    logbuf[0] = 0;
    ASSERT_EQ(mx_health_init(&h, cfg, test_log), 0);
    ASSERT_EQ(mx_health_writer(&h, 299), 1);
    ASSERT_EQ(mx_health_writer(&h, 3), 1);
    ASSERT_EQ(mx_health_writer(&h, 4), 0);
    /* Two console switches of different dataHosts before the heartbeat
     * thread looks: both apply, and the file holds every dataHost. */
    ASSERT_TRUE(mx_health_switch(&h, &cfg->datahosts[3], 0));
    ASSERT_TRUE(mx_health_switch(&h, &cfg->datahosts[298], 1));
    ASSERT_EQ(mx_health_start(&h), 0);
    ASSERT_TRUE(wait_for_text(path, "dh298=1\n"));
    const char *t = read_text(path);
    ASSERT_TRUE(t && strstr(t, "\ndh3=0\n") && strstr(t, "\ndh299=1\n") && strstr(t, "\ndh0=0\n"));
    ASSERT_EQ(mx_health_writer(&h, 3), 0);
    ASSERT_EQ(mx_health_writer(&h, 298), 1);
    mx_datahost_snapshot_t s;
    for (int i = 0; i < 500; i++) {
        mx_health_datahost_snapshot(&h, 298, &s);
        if (s.persisted == 1)
            break;
        usleep(10000);
    }
    ASSERT_EQ(s.active, 1);
    ASSERT_EQ(s.persisted, 1);
    ASSERT_STR_EQ(s.persist_error, "");
    mx_health_stop(&h);
    mx_conf_free(cfg);
    unlink(path);
}

/* The database list workers ask for strict_schemas: case-insensitive,
 * exact length, the union over hosts, fail closed before the first list. */
static void test_databases(void)
{
    mx_config_t *cfg = make_config(dir, 1);
    mx_health_t h;
    ASSERT_EQ(mx_health_init(&h, cfg, test_log), 0);
    ASSERT_TRUE(!mx_health_databases_known(&h));
    ASSERT_TRUE(mx_health_database_exists(&h, "anything", 8));

    static const char *const a[] = { "Shop", "aiurt_platform", "zeta", "b" };
    ASSERT_EQ(mx__health_set_databases(&h, 0, a, 4), 1);
    ASSERT_TRUE(mx_health_databases_known(&h));
    ASSERT_TRUE(mx_health_database_exists(&h, "shop", 4));
    ASSERT_TRUE(mx_health_database_exists(&h, "SHOP", 4));
    ASSERT_TRUE(mx_health_database_exists(&h, "sHoPping", 4)); /* len counts, not the NUL */
    ASSERT_TRUE(!mx_health_database_exists(&h, "shopping", 8));
    ASSERT_TRUE(!mx_health_database_exists(&h, "sho", 3));
    ASSERT_TRUE(!mx_health_database_exists(&h, "", 0));
    ASSERT_TRUE(mx_health_database_exists(&h, "AIURT_PLATFORM", 14));
    ASSERT_TRUE(mx_health_database_exists(&h, "b", 1));
    ASSERT_TRUE(mx_health_database_exists(&h, "Zeta", 4));
    ASSERT_TRUE(!mx_health_database_exists(&h, "aiurt-platform", 14));
    /* The server's own schemas, whatever the heartbeat's account saw. */
    ASSERT_TRUE(mx_health_database_exists(&h, "MySQL", 5));
    ASSERT_TRUE(mx_health_database_exists(&h, "information_schema", 18));
    ASSERT_TRUE(mx_health_database_exists(&h, "performance_schema", 18));
    ASSERT_TRUE(mx_health_database_exists(&h, "sys", 3));
    ASSERT_TRUE(!mx_health_database_exists(&h, "mysql2", 6));

    /* The same list again is no change; another host's list adds to it. */
    static const char *const a2[] = { "zeta", "b", "SHOP", "aiurt_platform" };
    ASSERT_EQ(mx__health_set_databases(&h, 0, a2, 4), 0);
    static const char *const other[] = { "other_db" };
    ASSERT_EQ(mx__health_set_databases(&h, 1, other, 1), 1);
    ASSERT_TRUE(mx_health_database_exists(&h, "other_db", 8));
    ASSERT_TRUE(mx_health_database_exists(&h, "shop", 4));
    /* A database dropped on host 0 is gone from its list. */
    ASSERT_EQ(mx__health_set_databases(&h, 0, a, 2), 1);
    ASSERT_TRUE(!mx_health_database_exists(&h, "zeta", 4));
    ASSERT_EQ(mx__health_set_databases(&h, 0, NULL, 0), 1);
    ASSERT_TRUE(!mx_health_database_exists(&h, "shop", 4));
    ASSERT_TRUE(mx_health_databases_known(&h));
    mx_health_stop(&h);
    mx_conf_free(cfg);
}

int main(void)
{
    snprintf(dir, sizeof(dir), "%s/manx-test-health-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    test_big_dnindex();
    test_unreadable_dnindex();
    test_state_dir();
    test_databases();
    test_many_datahosts();
    rmdir(dir);
    return mx_test_summary("health");
}
