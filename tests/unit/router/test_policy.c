/* Tests for router/policy.c: every row of policy.eval is decided the way
 * proxy/client.c decides a command - the statement scanned by mx_sql_scan,
 * the hosts chosen by router/route.c on a dataHost of two writeHosts (M1
 * with readHost R1, M2 with readHost R2), a weak pin that yields released
 * and the decision taken again - and compared; then direct checks of what
 * a row cannot show (messages, the session keeping its backend after a
 * statement, purity). */
#include <ctype.h>
#include <stdlib.h>

#include "protocol/proto.h"
#include "router/policy.h"
#include "test.h"

/* The mode rows are scanned under: a utf8 client in the default sql_mode
 * on MariaDB 10.11.6 (as classify.eval). */
static const mx_lexmode_t eval_mode = {.sql_mode = 0, .charset = MX_CS_UTF8, .server_version = 101106,
                                       .mariadb = true};

enum { M1, M2, R1, R2, NHOSTS };
static const char *const host_names[NHOSTS] = {"M1", "M2", "R1", "R2"};

/* One row's world: the config, the heartbeat's view, the load. */
typedef struct world_s {
    mx_host_t hosts[NHOSTS];
    mx_datahost_t dh;
    mx_host_state_t hh[NHOSTS];
    _Atomic int write_index[1];
    mx_health_t health;
    int busy[NHOSTS];
    int held;                    /* host of the backend the session holds, -1 none */
} world_t;

static int host_by_name(const char *s, size_t len)
{
    for (int i = 0; i < NHOSTS; i++)
        if (strlen(host_names[i]) == len && strncmp(host_names[i], s, len) == 0)
            return i;
    return -1;
}

static void world_init(world_t *w)
{
    memset(w, 0, sizeof(*w));
    for (int i = 0; i < NHOSTS; i++) {
        snprintf(w->hosts[i].name, sizeof(w->hosts[i].name), "%s", host_names[i]);
        w->hosts[i].index = i;
        w->hosts[i].weight = 1;
        atomic_store(&w->hh[i].status, MX_HOST_UP);
        atomic_store(&w->hh[i].repl, 1);
        atomic_store(&w->hh[i].lag, 0);
    }
    w->hosts[M1].read_hosts[0] = &w->hosts[R1];
    w->hosts[M1].n_read_hosts = 1;
    w->hosts[M2].read_hosts[0] = &w->hosts[R2];
    w->hosts[M2].n_read_hosts = 1;
    w->dh.write_hosts[0] = &w->hosts[M1];
    w->dh.write_hosts[1] = &w->hosts[M2];
    w->dh.n_write_hosts = 2;
    w->dh.switch_type = 1;
    w->dh.slave_threshold = 10;
    atomic_store(&w->write_index[0], 0);
    w->health.hosts = w->hh;
    w->health.write_index = w->write_index;
    w->held = -1;
}

/* Outstanding requests as a worker counts them: the row's busy=, plus the
 * backend the session holds (its pool counts it busy). */
static int world_load(void *arg, int host)
{
    const world_t *w = arg;
    return w->busy[host] + (host == w->held ? 1 : 0);
}

static const struct {
    const char *name;
    uint8_t cmd;
} commands[] = {
    {"query", MX_COM_QUERY},           {"prepare", MX_COM_STMT_PREPARE},
    {"execute", MX_COM_STMT_EXECUTE},  {"fetch", MX_COM_STMT_FETCH},
    {"reset", MX_COM_STMT_RESET},      {"long_data", MX_COM_STMT_SEND_LONG_DATA},
    {"field_list", MX_COM_FIELD_LIST}, {"statistics", MX_COM_STATISTICS},
    {"refresh", MX_COM_REFRESH},       {"debug", MX_COM_DEBUG},
    {"create_db", MX_COM_CREATE_DB},   {"drop_db", MX_COM_DROP_DB},
    {"process_info", MX_COM_PROCESS_INFO}, {"bulk", MX_COM_STMT_BULK_EXECUTE},
};

/* Splits `s` at `sep` in place; *rest is what follows the first one. */
static char *next_word(char **rest, const char *seps)
{
    char *s = *rest;
    while (*s && strchr(seps, *s))
        s++;
    if (!*s)
        return NULL;
    char *e = s + strcspn(s, seps);
    *rest = *e ? e + 1 : e;
    *e = 0;
    return s;
}

static bool parse_command(const char *s, uint8_t *cmd)
{
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (strcmp(commands[i].name, s) == 0) {
            *cmd = commands[i].cmd;
            return true;
        }
    return false;
}

/* trx, ac0, on=HOST|other, sticky, long_data, cursor, trx_chars, pin_next,
 * force_writer, gtid, gtid_ok=HOST, noschema, denied=DB. */
static bool parse_session(char *s, mx_route_in_t *in, world_t *w, char *denied, size_t cap)
{
    char *word;
    while ((word = next_word(&s, ", ")) != NULL) {
        if (strcmp(word, "-") == 0)
            continue;
        if (strcmp(word, "trx") == 0)
            in->pins.status |= MX_STATUS_IN_TRANS;
        else if (strcmp(word, "ac0") == 0)
            in->pins.status &= (uint16_t)~MX_STATUS_AUTOCOMMIT;
        else if (strcmp(word, "sticky") == 0)
            in->pins.sticky = true;
        else if (strcmp(word, "long_data") == 0)
            in->pins.long_data_pin = true;
        else if (strcmp(word, "cursor") == 0)
            in->pins.cursor_open = true;
        else if (strcmp(word, "trx_chars") == 0)
            in->pins.trx_chars = true;
        else if (strcmp(word, "pin_next") == 0)
            in->pins.pin_next = true;
        else if (strcmp(word, "force_writer") == 0)
            in->force_writer = true;
        else if (strcmp(word, "gtid") == 0)
            in->has_gtid = true;
        else if (strcmp(word, "noschema") == 0)
            in->has_schema = false;
        else if (strncmp(word, "gtid_ok=", 8) == 0 && host_by_name(word + 8, strlen(word + 8)) >= 0)
            in->gtid_ok_host = host_by_name(word + 8, strlen(word + 8));
        else if (strncmp(word, "denied=", 7) == 0) {
            in->db_refused = true;
            snprintf(denied, cap, "%s", word + 7);
        } else if (strcmp(word, "on=other") == 0) {
            in->has_backend = true;
            in->backend_host = -1; /* a backend of another account on M1 */
            w->held = M1;
        } else if (strncmp(word, "on=", 3) == 0 && host_by_name(word + 3, strlen(word + 3)) >= 0) {
            in->has_backend = true;
            in->backend_host = w->held = host_by_name(word + 3, strlen(word + 3));
        } else {
            return false;
        }
    }
    return true;
}

/* rw, ro, strict, ro+strict */
static bool parse_user(const char *s, mx_route_in_t *in)
{
    in->user_name = "app";
    in->readonly = strcmp(s, "ro") == 0 || strcmp(s, "ro+strict") == 0;
    in->strict_schemas = strcmp(s, "strict") == 0 || strcmp(s, "ro+strict") == 0;
    return in->readonly || in->strict_schemas || strcmp(s, "rw") == 0;
}

/* balance=N write_type=N switch_type=N consistency=session drop_reads */
static bool parse_datahost(char *s, mx_route_in_t *in, world_t *w)
{
    char *word;
    while ((word = next_word(&s, ", ")) != NULL) {
        if (strncmp(word, "balance=", 8) == 0)
            w->dh.balance = atoi(word + 8);
        else if (strncmp(word, "write_type=", 11) == 0)
            w->dh.write_type = atoi(word + 11);
        else if (strncmp(word, "switch_type=", 12) == 0)
            w->dh.switch_type = atoi(word + 12);
        else if (strcmp(word, "consistency=session") == 0)
            w->dh.consistency_session = true;
        else if (strcmp(word, "drop_reads") == 0)
            w->dh.drop_reads_of_dead_writer = true;
        else
            return false;
    }
    in->balance = w->dh.balance;
    in->consistency_session = w->dh.consistency_session;
    return true;
}

/* active=HOST, HOST:down|unknown|suspect|norepl|notreplica|lag=N|busy=N */
static bool parse_hosts(char *s, world_t *w)
{
    char *word;
    while ((word = next_word(&s, ", ")) != NULL) {
        if (strcmp(word, "-") == 0)
            continue;
        if (strncmp(word, "active=", 7) == 0) {
            int h = host_by_name(word + 7, strlen(word + 7));
            if (h != M1 && h != M2)
                return false;
            atomic_store(&w->write_index[0], h == M1 ? 0 : 1);
            continue;
        }
        char *colon = strchr(word, ':');
        int h = colon ? host_by_name(word, (size_t)(colon - word)) : -1;
        if (h < 0)
            return false;
        const char *st = colon + 1;
        if (strcmp(st, "down") == 0)
            atomic_store(&w->hh[h].status, MX_HOST_DOWN);
        else if (strcmp(st, "unknown") == 0)
            atomic_store(&w->hh[h].status, MX_HOST_UNKNOWN);
        else if (strcmp(st, "suspect") == 0)
            atomic_store(&w->hh[h].suspect, true);
        else if (strcmp(st, "norepl") == 0)
            atomic_store(&w->hh[h].repl, 0);
        else if (strcmp(st, "notreplica") == 0)
            atomic_store(&w->hh[h].repl, -1);
        else if (strncmp(st, "lag=", 4) == 0)
            atomic_store(&w->hh[h].lag, atoi(st + 4));
        else if (strncmp(st, "busy=", 5) == 0)
            w->busy[h] = atoi(st + 5);
        else
            return false;
    }
    return true;
}

/* The decision as the table writes it: "KIND [HOST] [read] [gtid_wait]
 * [released]", a refusal as "REFUSE code sqlstate [released]". */
static void describe(const mx_decision_t *d, bool released, char *buf, size_t cap)
{
    size_t n = (size_t)snprintf(buf, cap, "%s", mx_decide_kind_name(d->kind));
    if (d->kind == MX_DECIDE_REFUSE)
        n += (size_t)snprintf(buf + n, cap - n, " %u %s", d->code, d->sqlstate);
    if ((d->kind == MX_DECIDE_WRITER || d->kind == MX_DECIDE_READER) && d->host >= 0 && d->host < NHOSTS)
        n += (size_t)snprintf(buf + n, cap - n, " %s", host_names[d->host]);
    if (d->kind == MX_DECIDE_KEEP && d->read)
        n += (size_t)snprintf(buf + n, cap - n, " read");
    if (d->gtid_wait)
        n += (size_t)snprintf(buf + n, cap - n, " gtid_wait");
    if (released)
        snprintf(buf + n, cap - n, " released");
}

/* What client.c's route_command does with the decision: a weak pin that
 * yields lets its backend go, and the decision is taken again. */
static mx_decision_t decide_as_client(mx_route_in_t *in, world_t *w, bool *released)
{
    unsigned rr = 0;
    in->writer = in->reader = MX_ROUTE_UNASKED;
    mx_decision_t d = mx_route_resolve(in, &w->dh, 0, &w->health, world_load, w, &rr);
    *released = false;
    while (d.release) {
        *released = true;
        in->has_backend = false;
        w->held = -1;
        in->writer = in->reader = MX_ROUTE_UNASKED;
        d = mx_route_resolve(in, &w->dh, 0, &w->health, world_load, w, &rr);
    }
    return d;
}

static int eval_row(int lineno, char *line)
{
    char *col[7];
    int n = 0;
    for (char *s = line; n < 7; n++) {
        col[n] = s;
        char *tab = strchr(s, '\t');
        if (!tab) {
            n++;
            break;
        }
        *tab = 0;
        s = tab + 1;
    }
    mx_test_checks++;
    if (n != 7) {
        mx_test_failures++;
        fprintf(stderr, "policy.eval:%d: want 7 tab-separated columns, got %d\n", lineno, n);
        return 0;
    }
    world_t w;
    world_init(&w);
    mx_route_in_t in = {.has_schema = true, .backend_host = -1, .gtid_ok_host = -1,
                        .pins = {.status = MX_STATUS_AUTOCOMMIT}};
    char denied[MX_NAME_MAX + 1] = "";
    mx_sql_info_t info;
    char sql[1024];
    snprintf(sql, sizeof(sql), "%.*s", (int)sizeof(sql) - 1, col[0]);
    bool ok = parse_command(col[1], &in.cmd) && parse_session(col[2], &in, &w, denied, sizeof(denied)) &&
              parse_user(col[3], &in) && parse_datahost(col[4], &in, &w) && parse_hosts(col[5], &w);
    if (!ok) {
        mx_test_failures++;
        fprintf(stderr, "policy.eval:%d: cannot read the row\n", lineno);
        return 0;
    }
    in.db_denied = denied;
    if (strcmp(sql, "-") != 0) {
        mx_sql_scan((const uint8_t *)sql, strlen(sql), &eval_mode, NULL, &info);
        in.sql = &info;
    }
    bool released;
    mx_decision_t d = decide_as_client(&in, &w, &released);
    char got[256];
    describe(&d, released, got, sizeof(got));
    if (strcmp(got, col[6]) != 0) {
        mx_test_failures++;
        fprintf(stderr, "policy.eval:%d: %s | %s | %s | %s | %s | %s\n  want: %s\n  got:  %s\n", lineno, col[0],
                col[1], col[2], col[3], col[4], col[5], col[6], got);
    }
    return 1;
}

static void run_table(void)
{
    const char *dir = getenv("MX_TEST_DATA");
    char path[1024];
    snprintf(path, sizeof(path), "%s/router/policy.eval", dir ? dir : ".");
    FILE *f = fopen(path, "r");
    ASSERT_TRUE(f != NULL);
    if (!f)
        return;
    char line[2048];
    int lineno = 0, rows = 0;
    while (fgets(line, sizeof(line), f)) {
        lineno++;
        line[strcspn(line, "\r\n")] = 0;
        if (line[0] == '#' || line[0] == 0)
            continue;
        rows += eval_row(lineno, line);
    }
    fclose(f);
    fprintf(stderr, "policy.eval: %d rows\n", rows);
    ASSERT_TRUE(rows >= 100);
}

/* Messages and log lines are what client.c sent before the decision moved
 * to router/: clients and operators read them. */
static void test_messages(void)
{
    mx_sql_info_t info;
    mx_route_in_t in = {.cmd = MX_COM_QUERY, .sql = &info, .user_name = "bob", .readonly = true,
                        .has_schema = true, .backend_host = -1, .gtid_ok_host = -1,
                        .pins = {.status = MX_STATUS_AUTOCOMMIT}, .writer = MX_ROUTE_UNASKED,
                        .reader = MX_ROUTE_UNASKED};
    const char *q = "DELETE FROM t";
    mx_sql_scan((const uint8_t *)q, strlen(q), &eval_mode, NULL, &info);
    mx_decision_t d = mx_route_decide(&in);
    ASSERT_EQ(d.kind, MX_DECIDE_REFUSE);
    ASSERT_STR_EQ(d.msg, "The MySQL server is running with the --read-only option so it cannot execute this "
                         "statement (manx: user 'bob' has readonly = true)");
    ASSERT_EQ(d.log_level, MX_DECIDE_LOG_INFO);
    ASSERT_STR_EQ(d.log, "refused a statement: user is read-only");

    in.readonly = false;
    in.strict_schemas = true;
    in.db_refused = true;
    in.db_denied = "other";
    q = "SELECT * FROM other.t";
    mx_sql_scan((const uint8_t *)q, strlen(q), &eval_mode, NULL, &info);
    d = mx_route_decide(&in);
    ASSERT_EQ(d.kind, MX_DECIDE_REFUSE);
    ASSERT_STR_EQ(d.msg, "Access denied for user 'bob'@'%' to database 'other'");
    ASSERT_STR_EQ(d.log, "refused a statement naming database other: strict_schemas");

    in.sql = NULL;
    in.db_refused = false;
    in.cmd = MX_COM_CREATE_DB;
    d = mx_route_decide(&in);
    ASSERT_STR_EQ(d.msg, "Access denied for user 'bob'@'%' to database (manx: strict_schemas)");
    ASSERT_EQ(d.log_level, MX_DECIDE_LOG_NONE);

    in.strict_schemas = false;
    in.readonly = true;
    in.cmd = MX_COM_REFRESH;
    d = mx_route_decide(&in);
    ASSERT_EQ(d.code, MX_ER_OPTION_PREVENTS);
    ASSERT_EQ(d.log_level, MX_DECIDE_LOG_DEBUG);
    ASSERT_STR_EQ(d.log, "refused command 0x07: user is read-only");

    in.readonly = false;
    in.cmd = MX_COM_QUERY;
    in.sql = &info;
    q = "SELECT 1; KILL 7";
    mx_sql_scan((const uint8_t *)q, strlen(q), &eval_mode, NULL, &info);
    d = mx_route_decide(&in);
    ASSERT_STR_EQ(d.msg, "manx: KILL must be sent as a statement of its own");
    ASSERT_EQ(d.log_level, MX_DECIDE_LOG_WARNING);

    in.has_schema = false;
    q = "SELECT 1";
    mx_sql_scan((const uint8_t *)q, strlen(q), &eval_mode, NULL, &info);
    d = mx_route_decide(&in);
    ASSERT_EQ(d.code, MX_ER_NO_DB);
    ASSERT_STR_EQ(d.msg, "No database selected");
    ASSERT_TRUE(!d.release);
}

/* The host choice is asked only when the decision needs it, and at most
 * once per decision: it moves the round-robin cursor. */
static void test_pick_is_lazy(void)
{
    mx_sql_info_t info;
    const char *q = "SELECT 1";
    mx_sql_scan((const uint8_t *)q, strlen(q), &eval_mode, NULL, &info);
    mx_route_in_t in = {.cmd = MX_COM_QUERY, .sql = &info, .user_name = "app", .has_schema = true,
                        .backend_host = -1, .gtid_ok_host = -1, .pins = {.status = MX_STATUS_AUTOCOMMIT},
                        .balance = 1, .writer = MX_ROUTE_UNASKED, .reader = MX_ROUTE_UNASKED};
    mx_decision_t d = mx_route_decide(&in);
    ASSERT_EQ(d.kind, MX_DECIDE_PICK);
    ASSERT_TRUE(d.need_reader);
    in.writer = M1;
    d = mx_route_decide(&in);
    ASSERT_EQ(d.kind, MX_DECIDE_PICK); /* the reader still unasked */
    in.reader = R2;
    d = mx_route_decide(&in);
    ASSERT_EQ(d.kind, MX_DECIDE_READER);
    ASSERT_EQ(d.host, R2);
    ASSERT_TRUE(d.picked);

    /* A write never asks for a reader; the cursor moves only for the writer
     * under write_type = 1. */
    world_t w;
    world_init(&w);
    w.dh.balance = 1;
    q = "INSERT INTO t VALUES (1)";
    mx_sql_scan((const uint8_t *)q, strlen(q), &eval_mode, NULL, &info);
    in.writer = in.reader = MX_ROUTE_UNASKED;
    unsigned rr = 0;
    d = mx_route_resolve(&in, &w.dh, 0, &w.health, world_load, &w, &rr);
    ASSERT_EQ(d.kind, MX_DECIDE_WRITER);
    ASSERT_EQ(d.host, M1);
    ASSERT_EQ(rr, 0);
    ASSERT_EQ(in.reader, -1);
    w.dh.write_type = 1;
    in.writer = in.reader = MX_ROUTE_UNASKED;
    d = mx_route_resolve(&in, &w.dh, 0, &w.health, world_load, &w, &rr);
    ASSERT_EQ(rr, 1);

    /* A read forced to the writer is used up by the decision that used it;
     * a refusal leaves it for the next command. */
    in.force_writer = true;
    in.writer = in.reader = MX_ROUTE_UNASKED;
    q = "SELECT 1";
    mx_sql_scan((const uint8_t *)q, strlen(q), &eval_mode, NULL, &info);
    d = mx_route_resolve(&in, &w.dh, 0, &w.health, world_load, &w, &rr);
    ASSERT_EQ(d.kind, MX_DECIDE_WRITER);
    ASSERT_TRUE(!in.force_writer);
    in.force_writer = true;
    in.has_schema = false;
    d = mx_route_resolve(&in, &w.dh, 0, &w.health, world_load, &w, &rr);
    ASSERT_EQ(d.kind, MX_DECIDE_REFUSE);
    ASSERT_TRUE(in.force_writer);
}

/* After a statement: which flags keep the backend with the session. */
static void test_keeps_backend(void)
{
    mx_route_pins_t p = {.status = MX_STATUS_AUTOCOMMIT};
    ASSERT_TRUE(!mx_route_keeps_backend(&p));
    p.status = 0; /* autocommit = 0 alone does not pin */
    ASSERT_TRUE(!mx_route_keeps_backend(&p));
    p.status = MX_STATUS_IN_TRANS;
    ASSERT_TRUE(mx_route_keeps_backend(&p));
    p.status = MX_STATUS_AUTOCOMMIT | MX_STATUS_IN_TRANS_READONLY; /* READ ONLY alone is no transaction */
    ASSERT_TRUE(!mx_route_keeps_backend(&p));
    mx_route_pins_t one[] = {{.sticky = true}, {.long_data_pin = true}, {.cursor_open = true},
                             {.trx_chars = true}, {.pin_next = true}};
    for (size_t i = 0; i < sizeof(one) / sizeof(one[0]); i++)
        ASSERT_TRUE(mx_route_keeps_backend(&one[i]));
}

int main(void)
{
    run_table();
    test_messages();
    test_pick_is_lazy();
    test_keeps_backend();
    ASSERT_STR_EQ(mx_decide_kind_name(99), "?");
    return mx_test_summary("policy");
}
