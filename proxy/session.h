/* A session's tracked state and its replay on a backend (session.c). */
#ifndef MX_PROXY_SESSION_H
#define MX_PROXY_SESSION_H

#include "proxy-t.h"
#include "router/classify.h"
#include "router/policy.h"

const char *mx__find_var(const mx_sstate_t *st, const char *name);

void mx__replay_next(mx_client_t *cl);

void mx__client_internal_done(mx_client_t *cl, bool ok, const mx_err_t *err);

/* Read the session-state entries of an OK from the backend. */
void mx__track_ok(mx_client_t *cl, const uint8_t *p, uint32_t len);

/* After a statement ran: state it left on this backend that manx cannot
 * replay elsewhere keeps the session here (sticky; the backend is reset
 * before another session has it).  User variables set to literals by a
 * plain SET are replayed instead.  Pinning is decided from the text as
 * well as from session tracking, which reports neither a user variable
 * assigned by SELECT/DO/CALL, nor a HANDLER, nor a named lock. */
void mx__note_session_state(mx_client_t *cl, bool ok);

/* SET NAMES x [COLLATE y] and SET character_set_connection change the
 * connection's collation, which session tracking does not report: ask the
 * backend, so the session is replayed with its real collation elsewhere.
 * The client has its answer already; its next command waits.  Returns false
 * when nothing was started. */
bool mx__learn_collation(mx_client_t *cl);

/* How the server will read this session's next statement (router/lex.h):
 * its sql_mode and client character set as session tracking reported them,
 * else the backends' default and the handshake's; the backends' version. */
void mx__session_lexmode(const mx_client_t *cl, mx_lexmode_t *m);

#endif
