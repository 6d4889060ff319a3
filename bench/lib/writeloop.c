/* bench/lib/writeloop.c: the write load of the failover scenario. K threads
 * each loop INSERT INTO bench_fo (+ optionally SELECT @@server_id) through
 * the target for SECS seconds, reconnecting when the connection is gone, and
 * record every statement with its wall-clock start and end, so that the
 * harness can line them up with the moment it killed the writer.
 * Built by bench/run with gcc, pthreads and libmariadb.
 *
 *   writeloop HOST PORT USER PASSWORD DB THREADS SECS OUT.tsv RUN SELECT
 *             CONNECT_TIMEOUT READ_TIMEOUT
 *
 * RUN is a label stored in every row (bench_fo.run); SELECT is 1 to follow
 * each INSERT by `SELECT @@server_id`; the timeouts (seconds) are
 * MYSQL_OPT_CONNECT_TIMEOUT and MYSQL_OPT_READ_TIMEOUT/WRITE_TIMEOUT.
 *
 * OUT.tsv, one row per event, times in seconds since the epoch (CLOCK_REALTIME):
 *   th kind conn seq t0 t1 err srv msg
 *   kind  C connect (a new connection), I insert, S select, P the ping
 *         after a failed statement (err != 0 there: the connection was gone
 *         and is dropped; the next iteration reconnects)
 *   conn  the thread's connection number (1, 2, ...)
 *   err   0 or the MySQL error number
 *   srv   I: 1 or 2 from the parity of LAST_INSERT_ID() (the pair runs
 *         auto_increment_increment = 2, offset = server 1 or 2); S: @@server_id
 * After a failed statement (or connect) the thread sleeps 10 ms, so a proxy
 * that refuses at once does not turn the outage into a busy loop.
 * stdout: `statements OK ERR`, `connects OK ERR`, `drops N`.
 * Every call is bounded by the timeouts and every loop by the deadline; the
 * process also dies with its parent (PR_SET_PDEATHSIG). */
#define _GNU_SOURCE
#include <mysql.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>

static const char *host, *user, *pass, *db, *run_label;
static unsigned port, ctmo, rtmo;
static int do_select;
static double deadline;

struct rec {
    char kind;
    unsigned err;
    int conn;
    long seq;
    double t0, t1;
    long long srv;
    char msg[80];
};

struct worker {
    pthread_t tid;
    int id;
    struct rec *r;
    size_t n, cap;
    long ok, err, conn_ok, conn_err, drops;
};

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void nap_ms(int ms)
{
    struct timespec ts = {0, (long)ms * 1000000L};
    nanosleep(&ts, NULL);
}

static struct rec *add(struct worker *w, char kind, int conn, long seq, double t0, double t1,
                       MYSQL *m, unsigned err)
{
    if (w->n == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 4096;
        struct rec *r = realloc(w->r, cap * sizeof *r);
        if (!r)
            return NULL;
        w->r = r;
        w->cap = cap;
    }
    struct rec *r = &w->r[w->n++];
    r->kind = kind;
    r->err = err;
    r->conn = conn;
    r->seq = seq;
    r->t0 = t0;
    r->t1 = t1;
    r->srv = 0;
    r->msg[0] = 0;
    if (err && m) {
        snprintf(r->msg, sizeof r->msg, "%s", mysql_error(m));
        for (char *p = r->msg; *p; p++)
            if (*p == '\t' || *p == '\n' || *p == '\r')
                *p = ' ';
    }
    return r;
}

/* After a failed statement: is the connection still there? A proxy that
 * answers with an error packet keeps it; a dropped one fails the ping. */
static int still_connected(struct worker *w, MYSQL *m, int conn, long seq)
{
    double t0 = now();
    int rc = mysql_ping(m);
    double t1 = now();
    add(w, 'P', conn, seq, t0, t1, m, rc ? mysql_errno(m) : 0);
    return rc == 0;
}

static void *run(void *arg)
{
    struct worker *w = arg;
    MYSQL *m = NULL;
    int conn = 0;
    long seq = 0;
    char sql[256];
    mysql_thread_init();
    while (now() < deadline) {
        if (!m) {
            m = mysql_init(NULL);
            if (!m)
                break;
            mysql_options(m, MYSQL_OPT_CONNECT_TIMEOUT, &ctmo);
            mysql_options(m, MYSQL_OPT_READ_TIMEOUT, &rtmo);
            mysql_options(m, MYSQL_OPT_WRITE_TIMEOUT, &rtmo);
            double t0 = now();
            MYSQL *c = mysql_real_connect(m, host, user, pass, db, port, NULL, 0);
            double t1 = now();
            if (!c) {
                add(w, 'C', conn + 1, seq, t0, t1, m, mysql_errno(m) ? mysql_errno(m) : 1);
                w->conn_err++;
                mysql_close(m);
                m = NULL;
                nap_ms(10);
                continue;
            }
            conn++;
            w->conn_ok++;
            add(w, 'C', conn, seq, t0, t1, m, 0);
        }
        seq++;
        snprintf(sql, sizeof sql,
                 "INSERT INTO bench_fo (run, th, seq, sid) VALUES ('%s', %d, %ld, @@server_id)",
                 run_label, w->id, seq);
        double t0 = now();
        int rc = mysql_query(m, sql);
        double t1 = now();
        if (rc == 0) {
            unsigned long long id = mysql_insert_id(m);
            struct rec *r = add(w, 'I', conn, seq, t0, t1, m, 0);
            if (r)
                r->srv = id ? (id % 2 ? 1 : 2) : 0;
            w->ok++;
        } else {
            add(w, 'I', conn, seq, t0, t1, m, mysql_errno(m));
            w->err++;
            if (!still_connected(w, m, conn, seq)) {
                w->drops++;
                mysql_close(m);
                m = NULL;
            }
            nap_ms(10);
            continue;
        }
        if (!do_select)
            continue;
        t0 = now();
        rc = mysql_query(m, "SELECT @@server_id");
        MYSQL_RES *res = rc == 0 ? mysql_store_result(m) : NULL;
        t1 = now();
        if (res) {
            MYSQL_ROW row = mysql_fetch_row(res);
            struct rec *r = add(w, 'S', conn, seq, t0, t1, m, 0);
            if (r && row && row[0])
                r->srv = atoll(row[0]);
            mysql_free_result(res);
            w->ok++;
        } else {
            add(w, 'S', conn, seq, t0, t1, m, mysql_errno(m) ? mysql_errno(m) : 1);
            w->err++;
            if (!still_connected(w, m, conn, seq)) {
                w->drops++;
                mysql_close(m);
                m = NULL;
            }
            nap_ms(10);
        }
    }
    if (m)
        mysql_close(m);
    mysql_thread_end();
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 13) {
        fprintf(stderr, "usage: writeloop HOST PORT USER PASSWORD DB THREADS SECS OUT.tsv RUN "
                        "SELECT CONNECT_TIMEOUT READ_TIMEOUT\n");
        return 2;
    }
    host = argv[1];
    port = (unsigned)atoi(argv[2]);
    user = argv[3];
    pass = argv[4];
    db = argv[5];
    int k = atoi(argv[6]);
    double secs = atof(argv[7]);
    const char *out = argv[8];
    run_label = argv[9];
    do_select = atoi(argv[10]);
    ctmo = (unsigned)atoi(argv[11]);
    rtmo = (unsigned)atoi(argv[12]);
    if (k <= 0 || k > 256 || secs <= 0 || ctmo == 0 || rtmo == 0 ||
        strspn(run_label, "abcdefghijklmnopqrstuvwxyz0123456789_-") != strlen(run_label)) {
        fprintf(stderr, "writeloop: THREADS 1..256, SECS and timeouts > 0, RUN [a-z0-9_-]\n");
        return 2;
    }
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (mysql_library_init(0, NULL, NULL)) {
        fprintf(stderr, "writeloop: mysql_library_init failed\n");
        return 1;
    }
    struct worker *ws = calloc((size_t)k, sizeof *ws);
    if (!ws)
        return 1;
    deadline = now() + secs;
    for (int i = 0; i < k; i++) {
        ws[i].id = i + 1;
        if (pthread_create(&ws[i].tid, NULL, run, &ws[i])) {
            fprintf(stderr, "writeloop: pthread_create failed\n");
            return 1;
        }
    }
    long ok = 0, err = 0, cok = 0, cerr = 0, drops = 0;
    for (int i = 0; i < k; i++)
        pthread_join(ws[i].tid, NULL);
    FILE *f = fopen(out, "w");
    if (!f) {
        perror(out);
        return 1;
    }
    fprintf(f, "th\tkind\tconn\tseq\tt0\tt1\terr\tsrv\tmsg\n");
    for (int i = 0; i < k; i++) {
        for (size_t j = 0; j < ws[i].n; j++) {
            const struct rec *r = &ws[i].r[j];
            fprintf(f, "%d\t%c\t%d\t%ld\t%.6f\t%.6f\t%u\t%lld\t%s\n", ws[i].id, r->kind, r->conn,
                    r->seq, r->t0, r->t1, r->err, r->srv, r->msg);
        }
        ok += ws[i].ok;
        err += ws[i].err;
        cok += ws[i].conn_ok;
        cerr += ws[i].conn_err;
        drops += ws[i].drops;
        free(ws[i].r);
    }
    fclose(f);
    printf("statements %ld %ld\nconnects %ld %ld\ndrops %ld\n", ok, err, cok, cerr, drops);
    free(ws);
    mysql_library_end();
    return ok > 0 ? 0 : 1;
}
