/* Client sessions: a session's life, its dispatcher and manx's own replies
 * (client.c); login.h, command.h, local.h, sqltext.h, session.h and
 * relay.h are the other rooms of a session. */
#ifndef MX_PROXY_CLIENT_H
#define MX_PROXY_CLIENT_H

#include "proxy-t.h"
#include "router/classify.h"
#include "router/policy.h"

/* Stopping: close idle sessions now, the others when their statement
 * ends; force closes everything. */
void mx_client_shutdown_step(mx_worker_t *w, bool force);
uint8_t mx_client_flavor(const mx_client_t *cl);
/* "idle", "active", ...: for logs and the console. */
const char *mx_client_state_name(int st);
/* The one way a session changes state. */
void mx__client_set_state(mx_client_t *cl, mx_cl_state_t st);
/* KILL [QUERY] id for a session of this worker (no-op if it is not here). */
void mx_client_kill(mx_worker_t *w, uint32_t id, bool query_only);

/* Called by the pool and backend connections. */
void mx_client_got_server(mx_client_t *cl, mx_server_t *sv);
void mx_client_pool_failed(mx_client_t *cl, mx_pool_t *p, const char *reason);

/* Replies for the admin console (admin.c), sequence id 1. */
bool mx_client_send_resultset(mx_client_t *cl, const char *const *cols, size_t ncols, const char *const *vals,
                              size_t nrows);
bool mx_client_send_ok(mx_client_t *cl);
bool mx_client_send_error(mx_client_t *cl, uint16_t code, const char *state, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Shared by the session's rooms (login.c, relay.c, ...). */
bool mx__send_pkt(mx_client_t *cl, mx_pktbuf_t *b);

bool mx__send_err(mx_client_t *cl, uint8_t seq, uint16_t code, const char *state, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* A text result set built by manx: `ncols` string columns, `nrows` rows
 * of `vals` (row-major, NULL = SQL NULL).  Sequence ids start at 1. */
bool mx__send_resultset(mx_client_t *cl, const char *const *cols, size_t ncols, const char *const *vals,
                           size_t nrows);

bool mx__send_ok(mx_client_t *cl, uint8_t seq);

/* Whether the backend must stay with this session after the statement. */
bool mx__must_keep_server(const mx_client_t *cl);

void mx__unlink_server(mx_client_t *cl, bool dirty);

void mx__client_close(mx_client_t *cl, const char *why);

const mx_schema_t *mx__effective_schema(const mx_client_t *cl);

/* The routing decision's input for the command at hand (router/policy.h):
 * `info` is NULL when the command was not classified; `db_refused` and
 * `denied` are what the text's scan found for strict_schemas.  Returns the
 * dataHost of the session's schema, NULL without one. */
const mx_datahost_t *mx__route_input(const mx_client_t *cl, const mx_sql_info_t *info, bool db_refused,
                                        const char *denied, mx_route_in_t *in);

/* A refusal router/policy decided: the command goes nowhere. */
bool mx__send_refusal(mx_client_t *cl, const mx_decision_t *d);

/* Process what the client sent, as far as the session's state allows,
 * including what TLS still holds once there is room for it. */
void mx__client_work(mx_client_t *cl);

void mx__client_io(mx_conn_t *c, int ev);

/* KILL [CONNECTION|QUERY] id and COM_PROCESS_KILL: ids are manx session ids
 * (what the handshake and CONNECTION_ID() give), whichever worker holds
 * them.  As MySQL without the PROCESS/SUPER privilege, a session may kill
 * only sessions of its own user; console sessions and anything that is not
 * a manx session (a backend's thread id) are unknown here, and nothing is
 * ever forwarded. */
bool mx__handle_kill(mx_client_t *cl, uint64_t id, bool query_only);

#endif
