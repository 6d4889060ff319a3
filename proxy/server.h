/* Backend connections: connect and authenticate (mysql_native_password,
 * caching_sha2_password, optional TLS), enable session tracking, run
 * manx's internal commands (state replay, reset) and hand response bytes
 * of client commands to the linked session. */
#ifndef MX_PROXY_SERVER_H
#define MX_PROXY_SERVER_H

#include "proxy-t.h"

mx_server_t *mx_server_connect(mx_pool_t *p, uint8_t flavor);
/* MariaDB extended capabilities (MX_MARIADB_*) manx may offer its clients:
 * bulk execute and extended type info when every backend seen so far
 * offered them; none before any backend was seen. */
uint32_t mx_server_offer_ext_caps(void);
/* Run one command built in sv->out as manx's own; the linked client's
 * mx__client_internal_done() (client.h) is called when its response is complete. */
bool mx_server_internal(mx_server_t *sv) __attribute__((warn_unused_result));
/* Back to the pool.  dirty: the session left state behind (transaction,
 * temp tables, locks, user variables): reset the backend first. */
void mx_server_release(mx_server_t *sv, bool dirty);
void mx_server_close(mx_server_t *sv, const char *why);
/* The one way a backend connection changes state: it moves to the pool
 * list of the new state (proxy-t.h) and n_busy follows. */
void mx_server_set_state(mx_server_t *sv, mx_sv_state_t st);
/* "idle", "active", ...: for logs and the console. */
const char *mx_server_state_name(int st);
/* Send KILL QUERY <thread_id> over an idle connection of pool p; false
 * when none is idle. */
bool mx_server_kill_query(mx_pool_t *p, uint32_t thread_id);
/* Run KILL QUERY on sv, which the caller took off the idle list (on
 * p->active, counted busy). */
bool mx_server_start_kill(mx_server_t *sv, uint32_t thread_id);
void mx_sstate_clear(mx_sstate_t *st);
bool mx_sstate_copy(mx_sstate_t *dst, const mx_sstate_t *src);
bool mx_sstate_set_var(mx_sstate_t *st, const uint8_t *name, size_t nl, const uint8_t *val, size_t vl);
/* The character set variables, in the order a replay sets them (the
 * connection's character set resets its collation, so the collation comes
 * after it).  mx_sstate_cs() gives a session's value of one: what session
 * tracking reported, else what the collation id of the handshake (or of
 * manx's own login, for a backend) implies; "" for character_set_results
 * = NULL. */
enum { MX_CS_CLIENT, MX_CS_CONNECTION, MX_CS_COLLATION, MX_CS_RESULTS, MX_CS_VARS };
const char *mx_sstate_cs_name(int which);
const char *mx_sstate_cs(const mx_sstate_t *st, int which);
/* A user variable (name without '@', as the client wrote it unquoted) set
 * to a literal: kept as "@name" among the variables. */
bool mx_sstate_set_uservar(mx_sstate_t *st, const char *name, const char *value);

#endif
