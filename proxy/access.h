/* Who may log in from where, and how many at once: [user] hosts (address
 * allow-lists with Mycat's wildcards) and [user] max_connections.  The
 * matching and counting are pure functions over data the caller passes;
 * mx_access_login applies them to a session with the process's counts. */
#ifndef MX_PROXY_ACCESS_H
#define MX_PROXY_ACCESS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf/conf.h"

/* Per-user session counts, by user key modulo the table size: two users
 * that share a slot share a count, which can only refuse early, never
 * admit one too many. */
#define MX_ACCESS_SLOTS 4096
typedef struct mx_access_counts_s {
    _Atomic int n[MX_ACCESS_SLOTS];
} mx_access_counts_t;

/* Whether client address `addr` (numeric, as the socket gives it; an
 * IPv4-mapped IPv6 address counts as its IPv4 form) matches `pattern`: an
 * exact address, or IPv4 where '*' and '%' stand for a run of digits
 * (Mycat's whitehost), a trailing one also for any further ".digits"
 * (10.0.% matches 10.0.3.4).  Anchored at the start, unlike Mycat's
 * regular-expression search (which let 10.0.% match 110.0.3.4). */
bool mx_access_host_match(const char *pattern, const char *addr);
/* The user's hosts allow addr (no hosts: any address). */
bool mx_access_user_allows(const mx_user_t *u, const char *addr);
/* Some user of c may log in from addr: else MySQL answers 1130 before it
 * looks at user or password. */
bool mx_access_any_allows(const mx_config_t *c, const char *addr);

/* One more session for user `key` if fewer than `limit` (0 = no limit)
 * hold one; false when the limit is reached.  Lock-free and exact under
 * concurrent calls. */
bool mx_access_take(mx_access_counts_t *t, uint32_t key, int limit) __attribute__((warn_unused_result));
void mx_access_give(mx_access_counts_t *t, uint32_t key);
int mx_access_count(const mx_access_counts_t *t, uint32_t key);

/* The verdict at login, with MySQL's error code for a refusal. */
typedef enum {
    MX_ACCESS_OK = 0,
    MX_ACCESS_NO_HOST = 1130,    /* no user may log in from here: "Host '...' is not allowed to connect" */
    MX_ACCESS_DENIED = 1045,     /* this user may not log in from here: answered as a wrong password */
    MX_ACCESS_TOO_MANY = 1226,   /* max_connections reached: "User '...' has exceeded the ..." */
} mx_access_verdict_t;

/* The login check of a session: `user` is who it logs in as (NULL: not a
 * user of cfg, then only the address is checked), `addr` its address.  On
 * MX_ACCESS_OK a session slot of the user is taken and recorded in *slot
 * (the registry gives it back when the session ends or logs in again);
 * `msg` gets MySQL's message for a refusal. */
mx_access_verdict_t mx_access_check(mx_access_counts_t *t, const mx_config_t *cfg, const mx_user_t *user,
                                    const char *addr, uint32_t *slot, char *msg, size_t msglen);

/* The process's counts (proxy/registry.c releases slots through these). */
extern mx_access_counts_t mx_access_counts;

/* mx_access_check for a session at login, with the process's counts; the
 * slot it takes goes to the session's registry entry, which holds it until
 * the session closes or logs in as someone else.  Logs a refusal. */
typedef struct mx_client_s mx_client_t;
mx_access_verdict_t mx_access_login(mx_client_t *cl, char *msg, size_t msglen);

#endif
