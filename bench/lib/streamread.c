/* bench/lib/streamread.c: one slow client of a big result. Sends
 * SELECT REPEAT('x', ROWBYTES) FROM seq_1_to_ROWS (MariaDB's sequence
 * engine), reads it row by row with mysql_use_result and sleeps so that the
 * whole result takes about SECS seconds: a proxy in between must hold back
 * the server instead of buffering what the client has not read yet. Built by
 * bench/run with gcc and libmariadb for the stream scenario.
 *
 *   streamread HOST PORT USER PASSWORD DB ROWS ROWBYTES SECS MAX_SECS
 *
 * stdout (one line): rows R bytes B secs S first_row_ms F
 * or: error after R rows B bytes S s: TEXT (exit 1). After MAX_SECS it gives
 * up (exit 4) without draining the rest. */
#define _GNU_SOURCE
#include <mysql.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void nap(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    nanosleep(&ts, NULL);
}

int main(int argc, char **argv)
{
    if (argc != 10) {
        fprintf(stderr, "usage: streamread HOST PORT USER PASSWORD DB ROWS ROWBYTES SECS "
                        "MAX_SECS\n");
        return 2;
    }
    unsigned port = (unsigned)atoi(argv[2]);
    long rows_want = atol(argv[6]), rowbytes = atol(argv[7]);
    double secs = atof(argv[8]), max_secs = atof(argv[9]);
    if (rows_want <= 0 || rowbytes <= 0 || rowbytes > 65535 || secs <= 0 || max_secs <= secs) {
        fprintf(stderr, "streamread: bad arguments\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    mysql_library_init(0, NULL, NULL);
    MYSQL *m = mysql_init(NULL);
    unsigned timeout = 10, rw_timeout = 120;
    mysql_options(m, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
    mysql_options(m, MYSQL_OPT_READ_TIMEOUT, &rw_timeout);
    mysql_options(m, MYSQL_OPT_WRITE_TIMEOUT, &rw_timeout);
    double t0 = now();
    if (!mysql_real_connect(m, argv[1], argv[3], argv[4], argv[5], port, NULL, 0)) {
        printf("error after 0 rows 0 bytes 0 s: connect: %u %s\n", mysql_errno(m),
               mysql_error(m));
        return 1;
    }
    char q[128];
    snprintf(q, sizeof q, "SELECT REPEAT('x', %ld) FROM seq_1_to_%ld", rowbytes, rows_want);
    t0 = now();
    long rows = 0;
    long long bytes = 0;
    double first_row = -1;
    double rate = (double)rows_want * (double)rowbytes / secs; /* bytes per second */
    MYSQL_RES *res = NULL;
    if (mysql_query(m, q) || !(res = mysql_use_result(m))) {
        printf("error after 0 rows 0 bytes %.1f s: query: %u %s\n", now() - t0, mysql_errno(m),
               mysql_error(m));
        return 1;
    }
    MYSQL_ROW row;
    while ((row = mysql_fetch_row(res))) {
        unsigned long *len = mysql_fetch_lengths(res);
        if (first_row < 0)
            first_row = now() - t0;
        rows++;
        bytes += len ? (long long)len[0] : 0;
        if ((rows & 63) == 0) {
            double el = now() - t0, due = (double)bytes / rate;
            if (el > max_secs) {
                printf("error after %ld rows %lld bytes %.1f s: gave up after %.0f s\n", rows,
                       bytes, el, max_secs);
                fflush(stdout);
                _exit(4);
            }
            if (due > el + 0.001)
                nap(due - el);
        }
    }
    double el = now() - t0;
    if (mysql_errno(m)) {
        printf("error after %ld rows %lld bytes %.1f s: fetch: %u %s\n", rows, bytes, el,
               mysql_errno(m), mysql_error(m));
        return 1;
    }
    mysql_free_result(res);
    mysql_close(m);
    printf("rows %ld bytes %lld secs %.3f first_row_ms %.1f\n", rows, bytes, el,
           first_row * 1e3);
    mysql_library_end();
    return rows == rows_want ? 0 : 1;
}
