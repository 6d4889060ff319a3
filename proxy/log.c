/* Levelled logging to stderr; one write(2) per line so lines from several
 * worker threads never interleave. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

_Atomic int mx_log_level = MX_LOG_INFO;
_Thread_local int mx_log_worker = -1;

static void vlog(int level, const char *fmt, va_list ap);

void mx_log_heartbeat(int level, const char *fmt, ...)
{
    if (level > mx_log_level)
        return;
    int saved = mx_log_worker;
    mx_log_worker = MX_LOG_THREAD_HEARTBEAT;
    va_list ap;
    va_start(ap, fmt);
    vlog(level, fmt, ap);
    va_end(ap);
    mx_log_worker = saved;
}

static const char *const level_names[] = { "ERROR", "WARNING", "INFO", "DEBUG" };

void mx_log(int level, const char *fmt, ...)
{
    if (level > mx_log_level)
        return;
    va_list ap;
    va_start(ap, fmt);
    vlog(level, fmt, ap);
    va_end(ap);
}

static void vlog(int level, const char *fmt, va_list ap)
{
    char line[2048];
    struct timeval tv;
    struct tm tm;
    gettimeofday(&tv, NULL);
    localtime_r(&tv.tv_sec, &tm);
    int n = (int)strftime(line, sizeof(line), "%Y-%m-%d %H:%M:%S", &tm);
    if (mx_log_worker == MX_LOG_THREAD_HEARTBEAT)
        n += snprintf(line + n, sizeof(line) - (size_t)n, ".%03d [hb] %s: ",
                      (int)(tv.tv_usec / 1000), level_names[level]);
    else if (mx_log_worker >= 0)
        n += snprintf(line + n, sizeof(line) - (size_t)n, ".%03d [w%d] %s: ",
                      (int)(tv.tv_usec / 1000), mx_log_worker, level_names[level]);
    else
        n += snprintf(line + n, sizeof(line) - (size_t)n, ".%03d [main] %s: ",
                      (int)(tv.tv_usec / 1000), level_names[level]);
    int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
    if (m < 0)
        m = 0;
    n += m;
    if (n > (int)sizeof(line) - 2)
        n = (int)sizeof(line) - 2;
    line[n++] = '\n';
    ssize_t rc = write(STDERR_FILENO, line, (size_t)n);
    (void)rc;
}
