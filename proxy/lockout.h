/* Password guessing protection (max_login_failures, login_lockout): failed
 * logins in a row from one client address lock that address out for a
 * while, doubling while the failures go on.  Shared by all workers. */
#ifndef MX_PROXY_LOCKOUT_H
#define MX_PROXY_LOCKOUT_H

#include <stdbool.h>
#include <stdint.h>

#include "conf/conf.h"

/* True when `ip` is locked out now; *left_ms gets the time remaining. */
bool mx_lockout_blocked(const mx_config_t *cfg, const char *ip, uint64_t *left_ms);
/* A login from `ip` failed.  Returns the lockout (ms) it started, 0 if none. */
uint64_t mx_lockout_failed(const mx_config_t *cfg, const char *ip);
/* A login from `ip` succeeded: its count starts again. */
void mx_lockout_succeeded(const char *ip);

#endif
