/* bench/lib/holdconns.c: open N logged-in MySQL connections one after the
 * other, then keep them idle until told to stop. Built by bench/run with
 * gcc and libmariadb (MariaDB Connector/C) for the idle_conns scenario.
 *
 *   holdconns HOST PORT USER PASSWORD DB N MAX_HOLD_SECS CONNECT_BUDGET_SECS
 *
 * stdout, one line each, flushed at once:
 *   connected OK N SECS           after the connect phase (OK of N succeeded)
 *   first_error TEXT              the first failed connect, if any
 *   alive A                       on SIGUSR1: A of OK connections answered a
 *                                 ping after the idle time; then all are
 *                                 closed (COM_QUIT) and it exits 0
 *   timeout                       MAX_HOLD_SECS passed without SIGUSR1
 * SIGTERM, SIGINT, SIGHUP (and the parent's death) end it at once; the
 * kernel closes the sockets. The connect phase stops early after
 * CONNECT_BUDGET_SECS or 20 failures in a row, so it is always bounded. */
#define _GNU_SOURCE
#include <errno.h>
#include <mysql.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    if (argc != 9) {
        fprintf(stderr, "usage: holdconns HOST PORT USER PASSWORD DB N MAX_HOLD_SECS "
                        "CONNECT_BUDGET_SECS\n");
        return 2;
    }
    const char *host = argv[1], *user = argv[3], *pass = argv[4], *db = argv[5];
    unsigned port = (unsigned)atoi(argv[2]);
    long n = atol(argv[6]);
    long max_hold = atol(argv[7]);
    double budget = atof(argv[8]);
    if (n <= 0 || max_hold <= 0 || budget <= 0) {
        fprintf(stderr, "holdconns: N, MAX_HOLD_SECS and CONNECT_BUDGET_SECS must be > 0\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);

    /* The signals are taken with sigtimedwait, never by a handler. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigprocmask(SIG_BLOCK, &set, NULL);
    prctl(PR_SET_PDEATHSIG, SIGTERM);

    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }

    if (mysql_library_init(0, NULL, NULL)) {
        fprintf(stderr, "holdconns: mysql_library_init failed\n");
        return 1;
    }
    MYSQL **conns = calloc((size_t)n, sizeof *conns);
    if (!conns) {
        fprintf(stderr, "holdconns: out of memory\n");
        return 1;
    }
    unsigned timeout = 5;
    long ok = 0, fails_in_row = 0;
    char first_error[256] = "";
    double t0 = now();
    struct timespec zero = {0, 0};
    for (long i = 0; i < n; i++) {
        if (now() - t0 > budget) {
            if (!first_error[0])
                snprintf(first_error, sizeof first_error, "connect budget of %.0f s spent",
                         budget);
            break;
        }
        if ((i & 63) == 0 && sigtimedwait(&set, NULL, &zero) > 0)
            _exit(3);
        MYSQL *m = mysql_init(NULL);
        if (!m) {
            snprintf(first_error, sizeof first_error, "mysql_init: out of memory");
            break;
        }
        mysql_options(m, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
        mysql_options(m, MYSQL_OPT_READ_TIMEOUT, &timeout);
        mysql_options(m, MYSQL_OPT_WRITE_TIMEOUT, &timeout);
        if (!mysql_real_connect(m, host, user, pass, db, port, NULL, 0)) {
            if (!first_error[0])
                snprintf(first_error, sizeof first_error, "connect #%ld: %u %s", i + 1,
                         mysql_errno(m), mysql_error(m));
            mysql_close(m);
            if (++fails_in_row >= 20)
                break;
            continue;
        }
        fails_in_row = 0;
        conns[ok++] = m;
    }
    printf("connected %ld %ld %.3f\n", ok, n, now() - t0);
    if (first_error[0])
        printf("first_error %s\n", first_error);

    struct timespec hold = {max_hold, 0};
    int sig;
    do
        sig = sigtimedwait(&set, NULL, &hold);
    while (sig < 0 && errno == EINTR);
    if (sig < 0) {
        printf("timeout\n");
        _exit(4);
    }
    if (sig != SIGUSR1)
        _exit(3);
    long alive = 0;
    for (long i = 0; i < ok; i++)
        if (mysql_ping(conns[i]) == 0)
            alive++;
    printf("alive %ld\n", alive);
    for (long i = 0; i < ok; i++)
        mysql_close(conns[i]);
    free(conns);
    mysql_library_end();
    return 0;
}
