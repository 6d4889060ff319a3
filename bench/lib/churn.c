/* bench/lib/churn.c: connection churn. K threads each loop connect (full
 * MySQL handshake), SELECT 1, close, as fast as they can for SECS seconds.
 * Built by bench/run with gcc, pthreads and libmariadb for the churn
 * scenario.
 *
 *   churn HOST PORT USER PASSWORD DB THREADS SECS
 *
 * stdout (one line each):
 *   cycles OK ERR SECS RATE       completed cycles, failed ones, wall time,
 *                                 OK / SECS
 *   cycle_ms P50 P95 P99 MAX      one cycle (connect + query + close)
 *   first_error TEXT              the first failure, if any
 * Each thread stops at the deadline; a cycle is bounded by 5 s timeouts. */
#define _GNU_SOURCE
#include <mysql.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>

static const char *host, *user, *pass, *db;
static unsigned port;
static double deadline;
static pthread_mutex_t err_lock = PTHREAD_MUTEX_INITIALIZER;
static char first_error[256];

struct worker {
    pthread_t tid;
    long ok, err;
    double *lat; /* ms per successful cycle */
    size_t nlat, cap;
};

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void note_error(const char *what, MYSQL *m)
{
    pthread_mutex_lock(&err_lock);
    if (!first_error[0])
        snprintf(first_error, sizeof first_error, "%s: %u %s", what, mysql_errno(m),
                 mysql_error(m));
    pthread_mutex_unlock(&err_lock);
}

static void *run(void *arg)
{
    struct worker *w = arg;
    unsigned timeout = 5;
    mysql_thread_init();
    for (double t = now(); t < deadline; t = now()) {
        MYSQL *m = mysql_init(NULL);
        if (!m) {
            w->err++;
            continue;
        }
        mysql_options(m, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
        mysql_options(m, MYSQL_OPT_READ_TIMEOUT, &timeout);
        mysql_options(m, MYSQL_OPT_WRITE_TIMEOUT, &timeout);
        int good = 0;
        if (!mysql_real_connect(m, host, user, pass, db, port, NULL, 0)) {
            note_error("connect", m);
        } else if (mysql_query(m, "SELECT 1")) {
            note_error("SELECT 1", m);
        } else {
            MYSQL_RES *r = mysql_store_result(m);
            MYSQL_ROW row = r ? mysql_fetch_row(r) : NULL;
            if (row && row[0] && strcmp(row[0], "1") == 0)
                good = 1;
            else
                note_error("SELECT 1 result", m);
            if (r)
                mysql_free_result(r);
        }
        mysql_close(m);
        if (!good) {
            w->err++;
            continue;
        }
        w->ok++;
        if (w->nlat == w->cap) {
            size_t cap = w->cap ? w->cap * 2 : 4096;
            double *p = realloc(w->lat, cap * sizeof *p);
            if (!p)
                continue;
            w->lat = p;
            w->cap = cap;
        }
        w->lat[w->nlat++] = (now() - t) * 1e3;
    }
    mysql_thread_end();
    return NULL;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double pct(const double *v, size_t n, double q)
{
    if (!n)
        return 0;
    size_t i = (size_t)(q * (double)(n - 1) + 0.5);
    return v[i < n ? i : n - 1];
}

int main(int argc, char **argv)
{
    if (argc != 8) {
        fprintf(stderr, "usage: churn HOST PORT USER PASSWORD DB THREADS SECS\n");
        return 2;
    }
    host = argv[1];
    port = (unsigned)atoi(argv[2]);
    user = argv[3];
    pass = argv[4];
    db = argv[5];
    int k = atoi(argv[6]);
    double secs = atof(argv[7]);
    if (k <= 0 || k > 1024 || secs <= 0) {
        fprintf(stderr, "churn: THREADS must be 1..1024 and SECS > 0\n");
        return 2;
    }
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (mysql_library_init(0, NULL, NULL)) {
        fprintf(stderr, "churn: mysql_library_init failed\n");
        return 1;
    }
    struct worker *ws = calloc((size_t)k, sizeof *ws);
    if (!ws)
        return 1;
    double t0 = now();
    deadline = t0 + secs;
    for (int i = 0; i < k; i++)
        if (pthread_create(&ws[i].tid, NULL, run, &ws[i])) {
            fprintf(stderr, "churn: pthread_create failed\n");
            return 1;
        }
    long ok = 0, err = 0;
    size_t n = 0;
    for (int i = 0; i < k; i++) {
        pthread_join(ws[i].tid, NULL);
        ok += ws[i].ok;
        err += ws[i].err;
        n += ws[i].nlat;
    }
    double wall = now() - t0;
    double *all = malloc((n ? n : 1) * sizeof *all);
    size_t j = 0;
    for (int i = 0; i < k; i++) {
        if (all && ws[i].nlat)
            memcpy(all + j, ws[i].lat, ws[i].nlat * sizeof *all);
        j += ws[i].nlat;
        free(ws[i].lat);
    }
    printf("cycles %ld %ld %.3f %.1f\n", ok, err, wall, (double)ok / wall);
    if (all && n) {
        qsort(all, n, sizeof *all, cmp_double);
        printf("cycle_ms %.3f %.3f %.3f %.3f\n", pct(all, n, 0.50), pct(all, n, 0.95),
               pct(all, n, 0.99), all[n - 1]);
    }
    if (first_error[0])
        printf("first_error %s\n", first_error);
    free(all);
    free(ws);
    mysql_library_end();
    return ok > 0 ? 0 : 1;
}
