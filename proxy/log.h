/* Levelled logging to stderr.  Every line carries a timestamp, the worker
 * it came from and the level; callers prefix the connection
 * ("C-17 app@127.0.0.1:51234 db=shop:", "S-4 hostM1 127.0.0.1:3307:"). */
#ifndef MX_PROXY_LOG_H
#define MX_PROXY_LOG_H

enum { MX_LOG_ERROR = 0, MX_LOG_WARNING = 1, MX_LOG_INFO = 2, MX_LOG_DEBUG = 3 };

extern _Atomic int mx_log_level;       /* set at start-up and by a reload */
extern _Thread_local int mx_log_worker; /* -1 = main thread */
#define MX_LOG_THREAD_HEARTBEAT (-2)

/* mx_log for the heartbeat thread (labels its lines [hb]). */
void mx_log_heartbeat(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

void mx_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define mx_error(...) mx_log(MX_LOG_ERROR, __VA_ARGS__)
#define mx_warn(...) mx_log(MX_LOG_WARNING, __VA_ARGS__)
#define mx_info(...) do { if (mx_log_level >= MX_LOG_INFO) mx_log(MX_LOG_INFO, __VA_ARGS__); } while (0)
#define mx_debug(...) do { if (mx_log_level >= MX_LOG_DEBUG) mx_log(MX_LOG_DEBUG, __VA_ARGS__); } while (0)

#endif
