/* Tests for conf/mycat.c: the issue's seed directory as printed is refused
 * with file, line and the problem; fixed, it gives the expected INI and the
 * same config as that INI loaded on its own (the --print-ini round trip);
 * sharded tables are errors unless ignored; what manx does not honour is a
 * warning naming file:line; malformed and hostile XML is refused. */
#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

#include "conf/mycat.h"
#include "test.h"

static const char *data_dir;
static char warnings[8192];
static int n_warnings;

static void on_warn(void *arg, const char *msg)
{
    (void)arg;
    size_t o = strlen(warnings);
    snprintf(warnings + o, sizeof(warnings) - o, "%s\n", msg);
    n_warnings++;
}

static const char *dir_of(const char *name)
{
    static char buf[PATH_MAX];
    snprintf(buf, sizeof(buf), "%s/conf/mycat/%s", data_dir, name);
    return buf;
}

static bool contains(const char *hay, const char *needle)
{
    bool ok = strstr(hay, needle) != NULL;
    if (!ok)
        fprintf(stderr, "missing \"%s\" in:\n%s\n", needle, hay);
    return ok;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    static char buf[65536];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void test_seed_as_printed(void)
{
    char err[1024];
    mx_config_t *c = mx_mycat_load(dir_of("seed_as_printed"), 0, on_warn, NULL, err, sizeof(err));
    ASSERT_TRUE(c == NULL);
    ASSERT_TRUE(contains(err, "seed_as_printed/schema.xml:22: </writeHost> closes nothing"));
    ASSERT_TRUE(contains(err, "the <writeHost host=\"hostM2\"> at line 19 ends with \"/>\""));
    ASSERT_TRUE(contains(err, "Remove the \"/\" at the end of the tag on line 19"));
    mx_conf_free(c);
}

/* Every field that the INI loader sets, compared between two configs. */
static void same_config(const mx_config_t *a, const mx_config_t *b)
{
    ASSERT_STR_EQ(a->listen, b->listen);
    ASSERT_STR_EQ(a->admin_listen, b->admin_listen);
    ASSERT_STR_EQ(a->state_dir, b->state_dir);
    ASSERT_EQ(a->client_idle_timeout_ms, b->client_idle_timeout_ms);
    ASSERT_EQ(a->workers, b->workers);
    ASSERT_EQ(a->max_packet, b->max_packet);
    ASSERT_EQ(a->n_users, b->n_users);
    for (size_t i = 0; i < a->n_users && i < b->n_users; i++) {
        const mx_user_t *x = &a->users[i], *y = &b->users[i];
        ASSERT_STR_EQ(x->name, y->name);
        ASSERT_STR_EQ(x->password, y->password);
        ASSERT_MEM_EQ(x->stage2, y->stage2, 20);
        ASSERT_EQ(x->readonly, y->readonly);
        ASSERT_EQ(x->max_connections, y->max_connections);
        ASSERT_EQ(x->n_hosts, y->n_hosts);
        ASSERT_EQ(x->n_schemas, y->n_schemas);
        for (size_t k = 0; k < x->n_hosts; k++)
            ASSERT_STR_EQ(x->hosts[k], y->hosts[k]);
        for (size_t k = 0; k < x->n_schemas; k++)
            ASSERT_STR_EQ(x->schemas[k]->name, y->schemas[k]->name);
    }
    ASSERT_EQ(a->n_schemas, b->n_schemas);
    for (size_t i = 0; i < a->n_schemas && i < b->n_schemas; i++) {
        ASSERT_STR_EQ(a->schemas[i].name, b->schemas[i].name);
        ASSERT_STR_EQ(a->schemas[i].datanode->name, b->schemas[i].datanode->name);
        ASSERT_EQ(a->schemas[i].sql_max_limit, b->schemas[i].sql_max_limit);
    }
    ASSERT_EQ(a->n_datahosts, b->n_datahosts);
    for (size_t i = 0; i < a->n_datahosts && i < b->n_datahosts; i++) {
        const mx_datahost_t *x = &a->datahosts[i], *y = &b->datahosts[i];
        ASSERT_STR_EQ(x->name, y->name);
        ASSERT_EQ(x->balance, y->balance);
        ASSERT_EQ(x->write_type, y->write_type);
        ASSERT_EQ(x->switch_type, y->switch_type);
        ASSERT_EQ(x->slave_threshold, y->slave_threshold);
        ASSERT_EQ(x->max_con, y->max_con);
        ASSERT_EQ(x->min_con, y->min_con);
        ASSERT_EQ(x->drop_reads_of_dead_writer, y->drop_reads_of_dead_writer);
        ASSERT_STR_EQ(x->heartbeat, y->heartbeat);
        ASSERT_EQ(x->n_write_hosts, y->n_write_hosts);
    }
    ASSERT_EQ(a->n_hosts, b->n_hosts);
    for (size_t i = 0; i < a->n_hosts && i < b->n_hosts; i++) {
        const mx_host_t *x = &a->hosts[i], *y = &b->hosts[i];
        ASSERT_STR_EQ(x->name, y->name);
        ASSERT_STR_EQ(x->address, y->address);
        ASSERT_STR_EQ(x->user, y->user);
        ASSERT_STR_EQ(x->password, y->password);
        ASSERT_EQ(x->weight, y->weight);
        ASSERT_EQ(x->n_read_hosts, y->n_read_hosts);
    }
}

/* The INI of `dir` loads on its own (as --print-ini's output would) to the
 * config mx_mycat_load gives. */
static void round_trip(const char *dir, unsigned flags)
{
    char err[1024], tmp[] = "/tmp/test_mycat_XXXXXX";
    mx_mycat_ini_t ini;
    ASSERT_TRUE(mx_mycat_translate(dir, NULL, flags, NULL, NULL, &ini, err, sizeof(err)));
    int fd = mkstemp(tmp);
    ASSERT_TRUE(fd >= 0);
    ASSERT_EQ(write(fd, ini.text, ini.len), (long long)ini.len);
    close(fd);
    mx_config_t *a = mx_mycat_load(dir, flags, NULL, NULL, err, sizeof(err));
    mx_config_t *b = mx_conf_load(tmp, err, sizeof(err));
    ASSERT_TRUE(a && b);
    if (a && b)
        same_config(a, b);
    else
        fprintf(stderr, "%s\n", err);
    unlink(tmp);
    mx_conf_free(a);
    mx_conf_free(b);
    mx_mycat_ini_free(&ini);
}

static void test_seed_fixed(void)
{
    char err[1024], real[PATH_MAX];
    const char *dir = dir_of("seed_fixed");
    n_warnings = 0;
    warnings[0] = '\0';
    mx_config_t *c = mx_mycat_load(dir, 0, on_warn, NULL, err, sizeof(err));
    ASSERT_TRUE(c != NULL);
    if (!c) {
        fprintf(stderr, "%s\n", err);
        return;
    }
    ASSERT_EQ(n_warnings, 0);
    ASSERT_TRUE(realpath(dir, real) != NULL);
    ASSERT_STR_EQ(c->state_dir, real);
    ASSERT_STR_EQ(c->mycat_dir, dir);
    ASSERT_STR_EQ(c->listen, "0.0.0.0:8066");
    ASSERT_STR_EQ(c->admin_listen, "127.0.0.1:9066");
    ASSERT_EQ(c->client_idle_timeout_ms, 1800000);
    ASSERT_EQ(c->n_users, 2);
    ASSERT_STR_EQ(c->users[0].name, "root");
    ASSERT_EQ(c->users[0].readonly, false);
    ASSERT_STR_EQ(c->users[1].name, "test");
    ASSERT_EQ(c->users[1].readonly, true);
    ASSERT_STR_EQ(c->users[1].password, "123456");
    ASSERT_EQ(c->n_schemas, 1);
    ASSERT_STR_EQ(c->schemas[0].name, "aiurt-platform");
    ASSERT_EQ(c->schemas[0].sql_max_limit, 0);  /* Mycat ignores sqlMaxLimit without <table>s */
    ASSERT_STR_EQ(c->schemas[0].datanode->database, "aiurt-platform");
    const mx_datahost_t *d = &c->datahosts[0];
    ASSERT_STR_EQ(d->name, "localhost1");
    ASSERT_EQ(d->balance, 1);
    ASSERT_EQ(d->switch_type, 1);
    ASSERT_EQ(d->drop_reads_of_dead_writer, true);
    ASSERT_EQ(d->n_write_hosts, 2);
    ASSERT_STR_EQ(d->write_hosts[0]->name, "hostM1");
    ASSERT_STR_EQ(d->write_hosts[1]->name, "hostM2");
    ASSERT_STR_EQ(d->write_hosts[0]->read_hosts[0]->name, "hostS1");
    ASSERT_STR_EQ(d->write_hosts[1]->read_hosts[0]->name, "hostS2");
    ASSERT_STR_EQ(d->write_hosts[1]->address, "192.168.1.27:9089");
    mx_conf_free(c);

    /* The INI printed is the expected one, but for the directory. */
    mx_mycat_ini_t ini;
    ASSERT_TRUE(mx_mycat_translate(dir, NULL, 0, NULL, NULL, &ini, err, sizeof(err)));
    char want_path[PATH_MAX + 16], *want = slurp((snprintf(want_path, sizeof(want_path), "%.*s.ini.expected",
                                                             (int)(sizeof(want_path) - 16), dir), want_path));
    ASSERT_TRUE(want != NULL);
    char expect[65536] = "";
    for (const char *p = want; p && *p;) {
        const char *at = strstr(p, "@DIR@");
        size_t o = strlen(expect);
        if (!at) {
            snprintf(expect + o, sizeof(expect) - o, "%s", p);
            break;
        }
        snprintf(expect + o, sizeof(expect) - o, "%.*s%s", (int)(at - p), p,
                 at > p && at[-1] == ' ' && at[-2] == '=' ? real : dir);
        p = at + 5;
    }
    ASSERT_STR_EQ(ini.text, expect);
    mx_mycat_ini_free(&ini);
    round_trip(dir, 0);
}

static void test_sharded(void)
{
    char err[1024];
    mx_config_t *c = mx_mycat_load(dir_of("sharded"), 0, on_warn, NULL, err, sizeof(err));
    ASSERT_TRUE(c == NULL);
    ASSERT_TRUE(contains(err, "sharded/schema.xml:5: <table name=\"orders\">: a Mycat table rule"));
    ASSERT_TRUE(contains(err, "--mycat-ignore-sharding"));
    warnings[0] = '\0';
    c = mx_mycat_load(dir_of("sharded"), MX_MYCAT_IGNORE_SHARDING, on_warn, NULL, err, sizeof(err));
    ASSERT_TRUE(c != NULL);
    ASSERT_TRUE(contains(warnings, "sharded/schema.xml:5: <table name=\"orders\">: Mycat table rule ignored"));
    ASSERT_TRUE(contains(warnings, "sharded/schema.xml:4: <schema name=\"aiurt-platform\">: sqlMaxLimit 100"));
    if (c)
        ASSERT_EQ(c->schemas[0].sql_max_limit, 100);
    mx_conf_free(c);
    round_trip(dir_of("sharded"), MX_MYCAT_IGNORE_SHARDING);
}

static void test_unsupported(void)
{
    char err[1024];
    warnings[0] = '\0';
    mx_config_t *c = mx_mycat_load(dir_of("unsupported"), 0, on_warn, NULL, err, sizeof(err));
    ASSERT_TRUE(c != NULL);
    if (!c) {
        fprintf(stderr, "%s\n", err);
        return;
    }
    static const char *const want[] = {
        "unsupported/server.xml:51: <cluster>: not used by manx",
        "unsupported/server.xml:11: <property name=\"charset\"> in <system>: not applied",
        "unsupported/server.xml:12: <property name=\"sqlExecuteTimeout\"> in <system>: not applied",
        "unsupported/server.xml:14: <property name=\"useSqlStat\">",
        "unsupported/server.xml:20: <host host=\"db.example.com\">: not an IP address",
        "unsupported/server.xml:26: <blacklist> <property name=\"selectIntoOutfileAllow\">: not enforced",
        "unsupported/server.xml:33: <privileges> of user \"app\"",
        "unsupported/server.xml:42: <user name=\"enc\">: not imported: its password is encrypted",
        "unsupported/server.xml:47: <user name=\"nowhere\">: not imported: no <whitehost> entry",
        "unsupported/schema.xml:4: <schema name=\"shop\">: attribute randomDataNode",
        "unsupported/schema.xml:4: <schema name=\"shop\">: checkSQLschema=\"true\" is not applied",
        "unsupported/schema.xml:6: <dataHost name=\"dh1\">: dbDriver=\"jdbc\"",
        "unsupported/schema.xml:9: <connectionInitSql>",
        "unsupported/schema.xml:14: <dataHost name=\"ora\">: dbType=\"oracle\"",
        "unsupported/schema.xml:18: <sequence>",
        "unsupported/dnindex.properties:2: \"localhost1\" is not a <dataHost>",
        "unsupported/dnindex.properties:3: dataHost \"dh1\": \"5\" is not a writeHost index",
        "unsupported/dnindex.properties:4: not name=index",
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
        ASSERT_TRUE(contains(warnings, want[i]));
    ASSERT_STR_EQ(c->listen, "127.0.0.1:18066");
    ASSERT_STR_EQ(c->admin_listen, "127.0.0.1:19066");
    ASSERT_EQ(c->workers, 2);
    ASSERT_EQ(c->client_idle_timeout_ms, 600000);
    ASSERT_EQ(c->max_packet, 16777216);
    ASSERT_EQ(c->n_users, 2);
    const mx_user_t *app = mx_conf_find_user(c, "app", 3), *ro = mx_conf_find_user(c, "ro", 2);
    ASSERT_TRUE(app && ro);
    if (app && ro) {
        ASSERT_EQ(app->max_connections, 5);
        ASSERT_EQ(app->n_hosts, 2);
        ASSERT_STR_EQ(app->hosts[0], "127.0.0.*");
        ASSERT_STR_EQ(app->hosts[1], "10.0.%");
        ASSERT_EQ(app->readonly, true);   /* the blacklist forbids every write */
        ASSERT_EQ(ro->n_hosts, 1);
        ASSERT_EQ(ro->max_connections, 0);
    }
    const mx_datahost_t *d = &c->datahosts[0];
    ASSERT_EQ(c->n_datahosts, 1);
    ASSERT_EQ(d->balance, 3);
    ASSERT_EQ(d->switch_type, 2);
    ASSERT_EQ(d->slave_threshold, 30);
    ASSERT_EQ(d->drop_reads_of_dead_writer, false);   /* tempReadHostAvailable="1" */
    ASSERT_STR_EQ(d->heartbeat, "show slave status");
    ASSERT_STR_EQ(d->write_hosts[0]->address, "127.0.0.1:3306");  /* from the jdbc url */
    ASSERT_EQ(d->write_hosts[0]->weight, 2);
    ASSERT_EQ(d->write_hosts[0]->read_hosts[0]->weight, 1);
    mx_conf_free(c);
    round_trip(dir_of("unsupported"), 0);
}

#define HEAD_SRV "<?xml version=\"1.0\"?>\n<mycat:server xmlns:mycat=\"http://io.mycat/\">\n"
#define USER_OK "<user name=\"u\"><property name=\"password\">p</property><property name=\"schemas\">s</property></user>\n"
#define HEAD_SCH "<?xml version=\"1.0\"?>\n<mycat:schema xmlns:mycat=\"http://io.mycat/\">\n"
#define SCH_OK "<schema name=\"s\" dataNode=\"dn\"/>\n<dataNode name=\"dn\" dataHost=\"dh\" database=\"db\"/>\n" \
               "<dataHost name=\"dh\" maxCon=\"10\" minCon=\"1\" balance=\"0\">\n"

/* Bad directories given as contents: each is refused with this message. */
static void test_bad(void)
{
    static const struct {
        const char *server, *schema, *want;
    } bad[] = {
        {"", HEAD_SCH "</mycat:schema>", "/x/server.xml:1: no XML element in the file"},
        {HEAD_SRV USER_OK "</mycat:server>", HEAD_SCH "<schema name=\"s\" dataNode=\"dn\">\n</mycat:schema>",
         "/x/schema.xml:4: </mycat:schema> found where </schema> was expected (for the <schema> opened at line 3)"},
        {"<?xml version=\"1.0\"?>\n<!DOCTYPE x [<!ENTITY a \"aaaa\">]>\n<x/>", HEAD_SCH "</mycat:schema>",
         "/x/server.xml:2: the DTD declares entity 'a'; manx refuses entity declarations"},
        {"<?xml version=\"1.0\"?>\n<!DOCTYPE x SYSTEM \"file:///etc/passwd\">\n<x>&ext;</x>", HEAD_SCH "</mycat:schema>",
         "/x/server.xml:3: the root element is <x>"},  /* the external entity is not fetched */
        {HEAD_SRV USER_OK "</mycat:server>", "<other/>", "/x/schema.xml:1: the root element is <other>"},
        {HEAD_SRV USER_OK "</mycat:server>",
         HEAD_SCH SCH_OK "<writeHost host=\"m\" url=\"db1.example.com:3306\" user=\"r\"/>\n</dataHost></mycat:schema>",
         "/x/schema.xml:6: <writeHost host=\"m\">: address: 'db1.example.com:3306' is not a numeric"},
        {HEAD_SRV USER_OK "</mycat:server>",
         HEAD_SCH SCH_OK "<writeHost host=\"m\" url=\"127.0.0.1:3306\" user=\"r\"/>\n</dataHost></mycat:schema>"
         , NULL},
        {HEAD_SRV USER_OK "</mycat:server>",
         HEAD_SCH "<schema name=\"s\" dataNode=\"dn\"/>\n<dataNode name=\"dn\" dataHost=\"dh\" database=\"db\"/>\n"
         "<dataHost name=\"dh\" maxCon=\"10\" minCon=\"1\" balance=\"7\">\n"
         "<writeHost host=\"m\" url=\"127.0.0.1:3306\" user=\"r\"/>\n</dataHost></mycat:schema>",
         "/x/schema.xml:5: <dataHost name=\"dh\">: balance: '7' is out of range (0..3)"},
        {HEAD_SRV "<user name=\"u\"><property name=\"password\">p</property><property name=\"schemas\">s</property>\n"
         "<privileges check=\"true\"><schema name=\"s\" dml=\"0000\"/></privileges></user></mycat:server>",
         HEAD_SCH SCH_OK "<writeHost host=\"m\" url=\"127.0.0.1:3306\" user=\"r\"/>\n</dataHost></mycat:schema>",
         "/x/server.xml:4: <privileges check=\"true\"> of user \"u\": manx cannot enforce"},
        {HEAD_SRV USER_OK "<firewall><whitehost><host host=\"1.2.3.4\" user=\"nobody\"/></whitehost></firewall>"
         "</mycat:server>",
         HEAD_SCH SCH_OK "<writeHost host=\"m\" url=\"127.0.0.1:3306\" user=\"r\"/>\n</dataHost></mycat:schema>",
         "/x/server.xml:4: <host host=\"1.2.3.4\">: user \"nobody\" is not a <user> of server.xml"},
        {HEAD_SRV "<user name=\"u\"><property name=\"password\">a ;b</property><property name=\"schemas\">s</property>"
         "</user></mycat:server>",
         HEAD_SCH SCH_OK "<writeHost host=\"m\" url=\"127.0.0.1:3306\" user=\"r\"/>\n</dataHost></mycat:schema>",
         "/x/server.xml:3: <property name=\"password\">: password: the value cannot be written in manx's INI"},
        {HEAD_SRV USER_OK "</mycat:server>",
         HEAD_SCH "<schema name=\"s\" dataNode=\"dn\"/>\n<dataNode name=\"dn$0-9\" dataHost=\"dh\" database=\"db\"/>"
         "</mycat:schema>", "/x/schema.xml:4: <dataNode name=\"dn$0-9\">: a range of dataNodes is Mycat sharding"},
        {HEAD_SRV USER_OK "</mycat:server>",
         HEAD_SCH "<schema name=\"s\" dataNode=\"dn\"/>\n<dataNode name=\"dn\" dataHost=\"dh\" database=\"db\"/>\n"
         "<dataHost name=\"dh\" maxCon=\"10\" minCon=\"1\" dbType=\"oracle\">"
         "<writeHost host=\"m\" url=\"127.0.0.1:3306\" user=\"r\"/></dataHost></mycat:schema>",
         "/x/schema.xml:5: <dataHost name=\"dh\">: dbType=\"oracle\": manx speaks only to MySQL"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char err[1024] = "";
        mx_mycat_files_t f = {bad[i].server, strlen(bad[i].server), bad[i].schema, strlen(bad[i].schema), NULL, 0};
        mx_mycat_ini_t ini;
        bool ok = mx_mycat_translate("/x", &f, 0, NULL, NULL, &ini, err, sizeof(err));
        mx_config_t *c = NULL;
        if (ok) {
            c = mx_conf_load_mapped("/x/manx-from-mycat.ini", ini.text, ini.len, ini.origins, ini.n_origins, err,
                                    sizeof(err));
            mx_mycat_ini_free(&ini);
        }
        if (!bad[i].want) {
            ASSERT_TRUE(c != NULL);
            if (!c)
                fprintf(stderr, "case %zu: %s\n", i, err);
        } else {
            ASSERT_TRUE(c == NULL);
            if (strncmp(err, bad[i].want, strlen(bad[i].want)) != 0)
                fprintf(stderr, "case %zu: got \"%s\"\n  want \"%s...\"\n", i, err, bad[i].want);
            ASSERT_TRUE(strncmp(err, bad[i].want, strlen(bad[i].want)) == 0);
        }
        mx_conf_free(c);
    }
}

/* The new [user] keys in a hand-written INI. */
static void test_user_keys(void)
{
    static const char ok[] = "[user a]\npassword = x\nschemas = s\nmax_connections = 3\n"
                             "hosts = 127.0.0.*, 10.0.%, ::1\n[schema s]\ndatanode = d\n[datanode d]\n"
                             "datahost = h\ndatabase = db\n[datahost h]\nwrite_hosts = m\n[host m]\n"
                             "address = 127.0.0.1:3306\nuser = r\n";
    char err[512], buf[1024];
    mx_config_t *c = mx_conf_load_buffer("/t/a.ini", ok, sizeof(ok) - 1, err, sizeof(err));
    ASSERT_TRUE(c != NULL);
    if (c) {
        ASSERT_EQ(c->users[0].max_connections, 3);
        ASSERT_EQ(c->users[0].n_hosts, 3);
        ASSERT_STR_EQ(c->users[0].hosts[2], "::1");
    }
    mx_conf_free(c);
    static const char head[] = "[user a]\npassword = x\nschemas = s\n";
    snprintf(buf, sizeof(buf), "%shosts = 127.0.0.*, db.example.com\n%s", head, ok + sizeof(head) - 1);
    c = mx_conf_load_buffer("/t/a.ini", buf, strlen(buf), err, sizeof(err));
    ASSERT_TRUE(c == NULL);
    ASSERT_TRUE(contains(err, "/t/a.ini:4: hosts: 'db.example.com' is neither an IPv4/IPv6 address"));
    snprintf(buf, sizeof(buf), "%smax_connections = -1\n%s", head, ok + sizeof(head) - 1);
    c = mx_conf_load_buffer("/t/a.ini", buf, strlen(buf), err, sizeof(err));
    ASSERT_TRUE(c == NULL);
    ASSERT_TRUE(contains(err, "/t/a.ini:4: max_connections: '-1' is out of range"));
}

int main(void)
{
    data_dir = getenv("MX_TEST_DATA") ? getenv("MX_TEST_DATA") : ".";
    test_seed_as_printed();
    test_seed_fixed();
    test_sharded();
    test_unsupported();
    test_bad();
    test_user_keys();
    return mx_test_summary("mycat");
}
