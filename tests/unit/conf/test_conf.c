/* Tests for conf/: the sample config and a config setting every key load
 * with the expected values; each file in conf/bad/ fails with exactly the
 * message on its first line ("; expect: FILE:3: key: reason"); and
 * conf/config-reference.md matches the parameter table.
 * `test_conf --reference` prints that file. */
#include <dirent.h>
#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

#include "conf/conf.h"
#include "test.h"

static const char *data_dir;

static char *path_of(const char *rel)
{
    static char buf[4][PATH_MAX];
    static int next;
    char *p = buf[next++ % 4];
    snprintf(p, PATH_MAX, "%s/%s", data_dir, rel);
    return p;
}

static const mx_host_t *host(const mx_config_t *c, const char *name)
{
    for (size_t i = 0; i < c->n_hosts; i++)
        if (strcmp(c->hosts[i].name, name) == 0)
            return &c->hosts[i];
    return NULL;
}

static const uint8_t hash_123456[20] = {
    0x6B, 0xB4, 0x83, 0x7E, 0xB7, 0x43, 0x29, 0x10, 0x5E, 0xE4,
    0x56, 0x8D, 0xDA, 0x7D, 0xC6, 0x7E, 0xD2, 0xCA, 0x2A, 0xD9};

static void test_sample(void)
{
    char err[512], confdir[PATH_MAX], want[PATH_MAX + 16];
    const char *path = path_of("../../conf/manx.ini");
    mx_config_t *c = mx_conf_load(path, err, sizeof(err));
    ASSERT_TRUE(c != NULL);
    if (!c) {
        fprintf(stderr, "%s\n", err);
        return;
    }
    ASSERT_TRUE(realpath(path_of("../../conf"), confdir) != NULL);
    snprintf(want, sizeof(want), "%s/state", confdir);

    ASSERT_STR_EQ(c->path, path);
    ASSERT_STR_EQ(c->listen, "0.0.0.0:8066");
    ASSERT_STR_EQ(c->admin_listen, "127.0.0.1:9066");
    ASSERT_STR_EQ(c->metrics_listen, "");
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    ASSERT_EQ(c->workers, cpus < 1 ? 1 : cpus > 64 ? 64 : cpus);
    ASSERT_STR_EQ(c->state_dir, want);
    ASSERT_EQ(c->log_level, 2);
    ASSERT_EQ(c->max_connections, 10000);
    ASSERT_EQ(c->max_packet, 64u << 20);
    ASSERT_EQ(c->connect_timeout_ms, 5000);
    ASSERT_EQ(c->pool_wait_timeout_ms, 5000);
    ASSERT_EQ(c->client_idle_timeout_ms, 0);
    ASSERT_EQ(c->shutdown_timeout_ms, 10000);
    ASSERT_STR_EQ(c->server_version, "");
    ASSERT_STR_EQ(c->ssl_cert, "");
    ASSERT_STR_EQ(c->ssl_key, "");
    ASSERT_STR_EQ(c->ssl_ca, "");
    ASSERT_STR_EQ(c->rsa_private_key, "");
    ASSERT_EQ(c->require_secure_transport, 0);
    ASSERT_STR_EQ(c->admin_user, "admin");
    ASSERT_STR_EQ(c->admin_password, "admin");

    ASSERT_EQ(c->n_users, 2);
    ASSERT_EQ(c->n_schemas, 1);
    ASSERT_EQ(c->n_datanodes, 1);
    ASSERT_EQ(c->n_datahosts, 1);
    ASSERT_EQ(c->n_hosts, 4);
    if (c->n_users != 2 || c->n_schemas != 1 || c->n_datanodes != 1 || c->n_datahosts != 1 ||
        c->n_hosts != 4) {
        mx_conf_free(c);
        return;
    }

    const mx_user_t *root = &c->users[0], *test = &c->users[1];
    ASSERT_STR_EQ(root->name, "root");
    ASSERT_STR_EQ(root->password, "123456");
    ASSERT_TRUE(root->has_password);
    ASSERT_MEM_EQ(root->stage2, hash_123456, 20);
    ASSERT_EQ(root->n_schemas, 1);
    ASSERT_TRUE(root->schemas[0] == &c->schemas[0]);
    ASSERT_EQ(root->readonly, 0);
    ASSERT_STR_EQ(root->auth_plugin, "mysql_native_password");
    ASSERT_EQ(root->line, 22);
    ASSERT_STR_EQ(test->name, "test");
    ASSERT_EQ(test->readonly, 1);

    const mx_schema_t *s = &c->schemas[0];
    ASSERT_STR_EQ(s->name, "aiurt-platform");
    ASSERT_TRUE(s->datanode == &c->datanodes[0]);
    ASSERT_EQ(s->sql_max_limit, 0);
    ASSERT_TRUE(c->datanodes[0].datahost == &c->datahosts[0]);
    ASSERT_STR_EQ(c->datanodes[0].database, "aiurt_platform");

    const mx_datahost_t *d = &c->datahosts[0];
    ASSERT_STR_EQ(d->name, "localhost1");
    ASSERT_EQ(d->balance, 1);
    ASSERT_EQ(d->write_type, 0);
    ASSERT_EQ(d->switch_type, 1);
    ASSERT_EQ(d->slave_threshold, 100);
    ASSERT_EQ(d->max_con, 1000);
    ASSERT_EQ(d->min_con, 10);
    ASSERT_STR_EQ(d->heartbeat, "select user()");
    ASSERT_EQ(d->n_write_hosts, 2);
    ASSERT_TRUE(d->write_hosts[0] == host(c, "hostM1"));
    ASSERT_TRUE(d->write_hosts[1] == host(c, "hostM2"));
    ASSERT_EQ(d->heartbeat_period_ms, 1000);
    ASSERT_EQ(d->heartbeat_timeout_ms, 2000);
    ASSERT_EQ(d->heartbeat_retries, 3);

    const mx_host_t *m1 = host(c, "hostM1"), *m2 = host(c, "hostM2");
    ASSERT_TRUE(m1 && m2);
    if (m1 && m2) {
        ASSERT_STR_EQ(m1->address, "127.0.0.1:3307");
        ASSERT_STR_EQ(m1->ip, "127.0.0.1");
        ASSERT_EQ(m1->port, 3307);
        ASSERT_STR_EQ(m1->user, "app");
        ASSERT_STR_EQ(m1->password, "app123");
        ASSERT_EQ(m1->weight, 1);
        ASSERT_EQ(m1->ssl, 0);
        ASSERT_EQ(m1->n_read_hosts, 1);
        ASSERT_TRUE(m1->read_hosts[0] == host(c, "hostS1"));
        ASSERT_EQ(m1->index, 0);
        ASSERT_EQ(m1->line, 49);
        ASSERT_TRUE(m2->read_hosts[0] == host(c, "hostS2"));
        ASSERT_EQ(m2->port, 3308);
        ASSERT_EQ(m2->index, 2);
        ASSERT_EQ(host(c, "hostS1")->n_read_hosts, 0);
    }

    ASSERT_TRUE(mx_conf_find_user(c, "root", 4) == root);
    ASSERT_TRUE(mx_conf_find_user(c, "rootx", 4) == root);
    ASSERT_TRUE(mx_conf_find_user(c, "roo", 3) == NULL);
    ASSERT_TRUE(mx_conf_find_user(c, "ROOT", 4) == NULL);
    ASSERT_TRUE(mx_conf_find_schema(c, "aiurt-platform", 14) == s);
    ASSERT_TRUE(mx_conf_find_schema(c, "aiurt", 5) == NULL);
    ASSERT_TRUE(mx_conf_user_may_use(root, s));
    mx_conf_free(c);
}

static void test_full(void)
{
    char err[512], dir[PATH_MAX], want[PATH_MAX + 32];
    mx_config_t *c = mx_conf_load(path_of("conf/good/full.ini"), err, sizeof(err));
    ASSERT_TRUE(c != NULL);
    if (!c) {
        fprintf(stderr, "%s\n", err);
        return;
    }
    ASSERT_TRUE(realpath(path_of("conf/good"), dir) != NULL);
    ASSERT_STR_EQ(c->listen, "[::1]:3306");
    ASSERT_STR_EQ(c->admin_listen, "");
    ASSERT_EQ(c->workers, 3);
    ASSERT_STR_EQ(c->state_dir, "/var/lib/manx");
    ASSERT_EQ(c->log_level, 3);
    ASSERT_EQ(c->max_connections, 500);
    ASSERT_EQ(c->max_packet, 16u << 20);
    ASSERT_EQ(c->connect_timeout_ms, 2000);
    ASSERT_EQ(c->pool_wait_timeout_ms, 750);
    ASSERT_EQ(c->client_idle_timeout_ms, 120000);
    ASSERT_EQ(c->shutdown_timeout_ms, 0);
    ASSERT_STR_EQ(c->server_version, "8.0.36-manx");
    snprintf(want, sizeof(want), "%s/server-cert.pem", dir);
    ASSERT_STR_EQ(c->ssl_cert, want);
    snprintf(want, sizeof(want), "%s/server-key.pem", dir);
    ASSERT_STR_EQ(c->ssl_key, want);
    snprintf(want, sizeof(want), "%s/ca.pem", dir);
    ASSERT_STR_EQ(c->ssl_ca, want);
    snprintf(want, sizeof(want), "%s/rsa.pem", dir);
    ASSERT_STR_EQ(c->rsa_private_key, want);
    ASSERT_EQ(c->require_secure_transport, 1);
    ASSERT_STR_EQ(c->admin_user, "ops");
    ASSERT_STR_EQ(c->admin_password, "s3cret");

    ASSERT_EQ(c->n_users, 2);
    ASSERT_EQ(c->n_schemas, 2);
    ASSERT_EQ(c->n_hosts, 3);
    if (c->n_users == 2 && c->n_schemas == 2 && c->n_hosts == 3) {
        const mx_user_t *app = &c->users[0], *sha = &c->users[1];
        ASSERT_STR_EQ(app->name, "app");
        ASSERT_EQ(app->line, 26);
        ASSERT_EQ(app->has_password, 0);
        ASSERT_STR_EQ(app->password, "");
        ASSERT_MEM_EQ(app->stage2, hash_123456, 20);
        ASSERT_EQ(app->n_schemas, 2);
        ASSERT_TRUE(app->schemas[0] == &c->schemas[1]);
        ASSERT_TRUE(app->schemas[1] == &c->schemas[0]);
        ASSERT_TRUE(mx_conf_user_may_use(app, &c->schemas[0]));
        ASSERT_TRUE(!mx_conf_user_may_use(sha, &c->schemas[1]));
        ASSERT_EQ(sha->has_password, 1);
        ASSERT_STR_EQ(sha->password, "");
        ASSERT_STR_EQ(sha->auth_plugin, "caching_sha2_password");
        ASSERT_EQ(sha->strict_schemas, 1);
        ASSERT_EQ(app->strict_schemas, 0); /* [manx] strict_schemas' default */
        ASSERT_STR_EQ(sha->backend_user, "reader");
        ASSERT_STR_EQ(sha->backend_password, "r34d");
        ASSERT_STR_EQ(app->backend_user, "");
        ASSERT_EQ(c->schemas[0].sql_max_limit, 1000);
        ASSERT_TRUE(c->schemas[1].datanode == &c->datanodes[0]);

        const mx_datahost_t *d = &c->datahosts[0];
        ASSERT_EQ(d->balance, 3);
        ASSERT_EQ(d->write_type, 1);
        ASSERT_EQ(d->switch_type, -1);
        ASSERT_EQ(d->slave_threshold, 30);
        ASSERT_EQ(d->max_con, 50);
        ASSERT_EQ(d->min_con, 0);
        ASSERT_STR_EQ(d->heartbeat, "select 1");
        ASSERT_EQ(d->heartbeat_period_ms, 5000);
        ASSERT_EQ(d->heartbeat_timeout_ms, 500);
        ASSERT_EQ(d->heartbeat_retries, 5);
        ASSERT_EQ(d->heartbeat_retry_interval_ms, 150);
        ASSERT_EQ(d->heartbeat_rise, 4);
        ASSERT_EQ(d->rejoin_delay_ms, 10000);

        const mx_host_t *w1 = &c->hosts[0], *r1 = &c->hosts[1];
        ASSERT_STR_EQ(w1->ip, "127.0.0.1");
        ASSERT_EQ(w1->port, 3306);
        ASSERT_STR_EQ(w1->password, "p;w");
        ASSERT_EQ(w1->weight, 1000);
        ASSERT_EQ(w1->ssl, 1);
        ASSERT_EQ(w1->n_read_hosts, 2);
        ASSERT_TRUE(w1->read_hosts[1] == &c->hosts[2]);
        ASSERT_STR_EQ(r1->address, "[fe80::1]:3307");
        ASSERT_STR_EQ(r1->ip, "fe80::1");
        ASSERT_EQ(r1->port, 3307);
        ASSERT_STR_EQ(r1->password, "");
        ASSERT_EQ(c->hosts[2].weight, 5);
    }
    mx_conf_free(c);
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

static int only_ini(const struct dirent *e)
{
    size_t n = strlen(e->d_name);
    return n > 4 && strcmp(e->d_name + n - 4, ".ini") == 0;
}

/* Replaces FILE by the path and DIR by its directory's real path. */
static void expand(const char *tmpl, const char *path, const char *dir, char *out, size_t n)
{
    size_t o = 0;
    for (const char *t = tmpl; *t && o + 1 < n;) {
        const char *rep = NULL;
        if (strncmp(t, "FILE", 4) == 0)
            rep = path;
        else if (strncmp(t, "DIR", 3) == 0)
            rep = dir;
        if (rep) {
            o += (size_t)snprintf(out + o, n - o, "%s", rep);
            t += rep == path ? 4 : 3;
        } else {
            out[o++] = *t++;
        }
    }
    out[o < n ? o : n - 1] = '\0';
}

static void test_bad_files(void)
{
    struct dirent **names;
    char dir[PATH_MAX];
    int n = scandir(path_of("conf/bad"), &names, only_ini, by_name);
    ASSERT_TRUE(n >= 40);
    ASSERT_TRUE(realpath(path_of("conf/bad"), dir) != NULL);
    for (int i = 0; i < n; i++) {
        char path[PATH_MAX], line[1024], want[2048], err[2048];
        snprintf(path, sizeof(path), "%s/conf/bad/%s", data_dir, names[i]->d_name);
        free(names[i]);
        FILE *f = fopen(path, "r");
        ASSERT_TRUE(f != NULL);
        if (!f)
            continue;
        bool ok = fgets(line, sizeof(line), f) != NULL;
        fclose(f);
        ASSERT_TRUE(ok && strncmp(line, "; expect: ", 10) == 0);
        if (!ok)
            continue;
        line[strcspn(line, "\n")] = '\0';
        expand(line + 10, path, dir, want, sizeof(want));
        mx_config_t *c = mx_conf_load(path, err, sizeof(err));
        ASSERT_TRUE(c == NULL);
        mx_conf_free(c);
        ASSERT_STR_EQ(err, want);
    }
    free(names);
}

static const char minimal[] =
    "[user u]\npassword = x\nschemas = s\n[schema s]\ndatanode = dn\n"
    "[datanode dn]\ndatahost = dh\ndatabase = db\n[datahost dh]\nwrite_hosts = h\n"
    "[host h]\naddress = 127.0.0.1:3306\nuser = app\n";

static void test_file_errors(void)
{
    char err[512];
    ASSERT_TRUE(mx_conf_load("conf/no-such.ini", err, sizeof(err)) == NULL);
    ASSERT_STR_EQ(err, "conf/no-such.ini: cannot open: No such file or directory");
    const char *dir = path_of("conf/good");
    char want[PATH_MAX + 64];
    ASSERT_TRUE(mx_conf_load(dir, err, sizeof(err)) == NULL);
    snprintf(want, sizeof(want), "%s: not a regular file", dir);
    ASSERT_STR_EQ(err, want);

    ASSERT_TRUE(mx_conf_load_buffer("x.ini", "", 0, err, sizeof(err)) == NULL);
    ASSERT_STR_EQ(err, "x.ini: no [user NAME] section; at least one is needed");
    static const char nul[] = "[manx]\nworkers = 1\0\n";
    ASSERT_TRUE(mx_conf_load_buffer("x.ini", nul, sizeof(nul) - 1, err, sizeof(err)) == NULL);
    ASSERT_STR_EQ(err, "x.ini:2: line contains a NUL byte");
    /* Comments may be longer than inih's line buffer. */
    char lng[1200];
    snprintf(lng, sizeof(lng), "; %0900d\n%s", 0, minimal);
    mx_config_t *c = mx_conf_load_buffer("x.ini", lng, strlen(lng), err, sizeof(err));
    ASSERT_TRUE(c != NULL);
    mx_conf_free(c);
    /* A short buffer gets a truncated, terminated message. */
    char small[8];
    ASSERT_TRUE(mx_conf_load_buffer("x.ini", "", 0, small, sizeof(small)) == NULL);
    ASSERT_STR_EQ(small, "x.ini: ");
}

static void test_minimal_defaults(void)
{
    char err[512], cwd[PATH_MAX], want[PATH_MAX + 16];
    mx_config_t *c = mx_conf_load_buffer("x.ini", minimal, sizeof(minimal) - 1, err, sizeof(err));
    ASSERT_TRUE(c != NULL);
    if (!c)
        return;
    ASSERT_TRUE(getcwd(cwd, sizeof(cwd)) != NULL);
    snprintf(want, sizeof(want), "%s/state", cwd);
    ASSERT_STR_EQ(c->state_dir, want);
    ASSERT_STR_EQ(c->listen, "0.0.0.0:8066");
    ASSERT_STR_EQ(c->admin_user, "admin");
    ASSERT_STR_EQ(c->admin_password, "");
    ASSERT_STR_EQ(c->hosts[0].password, "");
    ASSERT_EQ(c->hosts[0].n_read_hosts, 0);
    ASSERT_EQ(c->datahosts[0].balance, 1);
    ASSERT_EQ(c->datahosts[0].switch_type, 1);
    ASSERT_TRUE(c->workers >= 1 && c->workers <= 64);
    mx_conf_free(c);
}

typedef struct {
    int calls;
    char out[8192];
} params_t;

static void collect(void *arg, const char *section, const char *key, const char *value,
                    const char *help)
{
    params_t *p = arg;
    size_t o = strlen(p->out);
    p->calls++;
    ASSERT_TRUE(help != NULL && help[0] != '\0');
    snprintf(p->out + o, sizeof(p->out) - o, "%s.%s=%s\n", section, key, value);
}

static void test_each_param(void)
{
    char err[512];
    mx_config_t *c = mx_conf_load(path_of("../../conf/manx.ini"), err, sizeof(err));
    ASSERT_TRUE(c != NULL);
    if (!c)
        return;
    params_t p = {0};
    mx_conf_each_param(c, collect, &p);
    ASSERT_EQ(p.calls, 32 + 2 + 18);
    ASSERT_TRUE(strstr(p.out, "manx.listen=0.0.0.0:8066\n") != NULL);
    ASSERT_TRUE(strstr(p.out, "manx.log_level=info\n") != NULL);
    ASSERT_TRUE(strstr(p.out, "manx.max_packet=64M\n") != NULL);
    ASSERT_TRUE(strstr(p.out, "manx.connect_timeout=5000ms\n") != NULL);
    ASSERT_TRUE(strstr(p.out, "manx.require_secure_transport=false\n") != NULL);
    ASSERT_TRUE(strstr(p.out, "manx.coordination=none\n") != NULL);
    ASSERT_TRUE(strstr(p.out, "admin.user=admin\n") != NULL);
    ASSERT_TRUE(strstr(p.out, "admin.password=***\n") != NULL);
    ASSERT_TRUE(strstr(p.out, "datahost localhost1.write_hosts=hostM1, hostM2\n") != NULL);
    ASSERT_TRUE(strstr(p.out, "datahost localhost1.heartbeat=select user()\n") != NULL);
    ASSERT_TRUE(strstr(p.out, "123456") == NULL);
    ASSERT_TRUE(strstr(p.out, "app123") == NULL);
    mx_conf_free(c);
}

/* Loads `minimal` with one line replaced. */
static mx_config_t *load_variant(const char *from, const char *to)
{
    char buf[2048], err[512];
    const char *at = strstr(minimal, from);
    if (!at)
        return NULL;
    snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(at - minimal), minimal, to, at + strlen(from));
    mx_config_t *c = mx_conf_load_buffer("x.ini", buf, strlen(buf), err, sizeof(err));
    if (!c)
        fprintf(stderr, "%s\n", err);
    return c;
}

static void test_reload(void)
{
    char err[512];
    mx_config_t *old = load_variant("[user u]\n", "[user u]\n");
    mx_config_t *ok = load_variant("[user u]\n", "[manx]\nlog_level = debug\n[user u]\n");
    mx_config_t *listen = load_variant("[user u]\n", "[manx]\nlisten = 0.0.0.0:3306\n[user u]\n");
    mx_config_t *workers = load_variant("[user u]\n", "[manx]\nworkers = 3\n[user u]\n");
    mx_config_t *addr = load_variant("127.0.0.1:3306", "127.0.0.1:3307");
    mx_config_t *more = load_variant("[host h]\n", "[datahost other]\nwrite_hosts = h\n[host h]\n");
    /* A user and a readHost added; the readHost listed before h. */
    mx_config_t *added = load_variant("[host h]\n",
                                      "[user v]\npassword = y\nschemas = s\nbackend_user = ro\n"
                                      "[host r]\naddress = 127.0.0.1:3308\nuser = app\n"
                                      "[host h]\nread_hosts = r\n");
    ASSERT_TRUE(old && ok && listen && workers && addr && more && added);
    if (old && ok && listen && workers && addr && more && added) {
        ASSERT_TRUE(mx_conf_check_reload(old, old, err, sizeof(err)));
        ASSERT_TRUE(mx_conf_check_reload(old, ok, err, sizeof(err)));
        ASSERT_TRUE(mx_conf_check_reload(old, more, err, sizeof(err)));
        ASSERT_TRUE(mx_conf_check_reload(old, added, err, sizeof(err)));
        /* Keys a reload cannot change are refused with file:line. */
        ASSERT_TRUE(!mx_conf_check_reload(old, listen, err, sizeof(err)));
        ASSERT_STR_EQ(err, "x.ini:2: listen: changed from '0.0.0.0:8066' to '0.0.0.0:3306'; "
                           "needs a restart");
        ASSERT_TRUE(!mx_conf_check_reload(old, workers, err, sizeof(err)));
        ASSERT_TRUE(strncmp(err, "x.ini:2: workers: changed from ", 31) == 0);
        /* The metrics listener is bound once, at start-up. */
        mx_config_t *metrics = load_variant("[user u]\n", "[manx]\nmetrics_listen = 127.0.0.1:9067\n[user u]\n");
        ASSERT_TRUE(metrics && !mx_conf_check_reload(old, metrics, err, sizeof(err)));
        ASSERT_STR_EQ(err, "x.ini:2: metrics_listen: changed from '' to '127.0.0.1:9067'; needs a restart");
        mx_conf_free(metrics);
        /* Going back to the default is a change too, with no line to name. */
        ASSERT_TRUE(!mx_conf_check_reload(listen, old, err, sizeof(err)));
        ASSERT_STR_EQ(err, "x.ini: listen: not given, so changed from '0.0.0.0:3306' to the default "
                           "'0.0.0.0:8066'; needs a restart");
        /* A host's address may change: it becomes another server. */
        ASSERT_TRUE(mx_conf_check_reload(old, addr, err, sizeof(err)));

        /* Slots: positions at the first load. */
        ASSERT_EQ(old->hosts[0].index, 0);
        ASSERT_EQ(old->datahosts[0].index, 0);
        ASSERT_EQ(old->users[0].key, 1u);
        ASSERT_EQ(old->generation, 1u);
        /* The same host keeps its slot wherever it is listed; new ones
         * come after every slot used so far. */
        ASSERT_TRUE(mx_conf_carry(added, old, err, sizeof(err)));
        ASSERT_EQ(added->generation, 2u);
        const mx_host_t *h = NULL, *r = NULL;
        for (size_t i = 0; i < added->n_hosts; i++) {
            if (strcmp(added->hosts[i].name, "h") == 0)
                h = &added->hosts[i];
            if (strcmp(added->hosts[i].name, "r") == 0)
                r = &added->hosts[i];
        }
        ASSERT_TRUE(h && r);
        if (h && r) {
            ASSERT_EQ(h->index, 0);
            ASSERT_EQ(r->index, 1);
            ASSERT_TRUE(mx_conf_host_by_slot(added, 1) == r);
        }
        ASSERT_EQ(added->n_host_slots, 2);
        ASSERT_EQ(added->datahosts[0].index, 0);       /* same writeHosts: same slot */
        const mx_user_t *u = mx_conf_find_user(added, "u", 1), *v = mx_conf_find_user(added, "v", 1);
        ASSERT_TRUE(u && v);
        if (u && v) {
            ASSERT_EQ(u->key, 1u);
            ASSERT_EQ(v->key, 2u);
            ASSERT_EQ(u->acct, 0);
            ASSERT_EQ(v->acct, 1);
            ASSERT_STR_EQ(added->accounts[1].user, "ro");
        }
        /* Back to the first file: h keeps slot 0; r's slot is not reused. */
        mx_config_t *again = load_variant("[user u]\n", "[user u]\n");
        ASSERT_TRUE(again && mx_conf_carry(again, added, err, sizeof(err)));
        if (again) {
            ASSERT_EQ(again->hosts[0].index, 0);
            ASSERT_EQ(again->n_host_slots, 2);
            ASSERT_EQ(again->n_acct_slots, 2);
        }
        /* A changed address is a new server: a new host slot, and its
         * dataHost (whose writeHost 0 it is) a new dataHost slot. */
        ASSERT_TRUE(mx_conf_carry(addr, again ? again : old, err, sizeof(err)));
        ASSERT_EQ(addr->hosts[0].index, 2);
        ASSERT_EQ(addr->datahosts[0].index, 1);
        mx_conf_free(again);
    }
    mx_conf_free(old);
    mx_conf_free(ok);
    mx_conf_free(listen);
    mx_conf_free(workers);
    mx_conf_free(addr);
    mx_conf_free(more);
    mx_conf_free(added);
}

static void test_reference(void)
{
    char *gen = NULL, *disk = NULL;
    size_t gen_len = 0;
    FILE *m = open_memstream(&gen, &gen_len);
    ASSERT_TRUE(m != NULL);
    if (!m)
        return;
    mx__conf_write_reference(m);
    fclose(m);
    FILE *f = fopen(path_of("../../conf/config-reference.md"), "r");
    ASSERT_TRUE(f != NULL);
    if (f) {
        disk = calloc(1, gen_len + 2);
        size_t n = disk ? fread(disk, 1, gen_len + 1, f) : 0;
        fclose(f);
        ASSERT_EQ(n, gen_len);
        bool same = disk && n == gen_len && memcmp(disk, gen, n) == 0;
        ASSERT_TRUE(same);
        if (!same)
            fprintf(stderr, "conf/config-reference.md is stale; regenerate with "
                            "test_conf --reference > conf/config-reference.md\n");
    }
    free(disk);
    free(gen);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--reference") == 0) {
        mx__conf_write_reference(stdout);
        return 0;
    }
    data_dir = getenv("MX_TEST_DATA");
    if (!data_dir)
        data_dir = ".";
    test_sample();
    test_full();
    test_bad_files();
    test_file_errors();
    test_minimal_defaults();
    test_each_param();
    test_reload();
    test_reference();
    return mx_test_summary("test_conf");
}
