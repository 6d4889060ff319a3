/* Prepared statements across pooled backends.  A client sees statement
 * ids manx gives out (mx_stmt_t, per session); each backend connection
 * keeps the statements prepared on it, keyed by their SQL text
 * (mx_sstmt_t, shared by every session that prepares the same text), so a
 * statement prepared once executes wherever the session's next command
 * runs: manx prepares it there first when needed. */
#ifndef MX_PROXY_STMT_H
#define MX_PROXY_STMT_H

#include "proxy-t.h"

mx_stmt_t *mx_stmt_find(mx_client_t *cl, uint32_t vid);
/* Takes ownership of sql (heap).  Returns NULL when out of memory. */
mx_stmt_t *mx_stmt_add(mx_client_t *cl, char *sql, uint32_t len, uint8_t cls, uint16_t n_params);
void mx_stmt_remove(mx_client_t *cl, uint32_t vid);
void mx_stmt_clear_all(mx_client_t *cl);
/* Remember the parameter types an EXECUTE sent (2 bytes per parameter). */
bool mx_stmt_set_types(mx_stmt_t *st, const uint8_t *types);

mx_sstmt_t *mx_sstmt_find(mx_server_t *sv, const mx_stmt_t *st);
bool mx_sstmt_set_types(mx_sstmt_t *ss, const uint8_t *types);
/* Record that st is prepared on sv as backend_id; evicts the least
 * recently used entry (queued for COM_STMT_CLOSE) when the table is full. */
mx_sstmt_t *mx_sstmt_add(mx_server_t *sv, const mx_stmt_t *st, uint32_t backend_id);
void mx_sstmt_clear_all(mx_server_t *sv);
/* COM_STMT_CLOSE backend_id before the connection's next command. */
void mx_sstmt_queue_close(mx_server_t *sv, uint32_t backend_id);

uint32_t mx_stmt_hash(const uint8_t *p, size_t n);

/* COM_STMT_BULK_EXECUTE (MariaDB).  Why manx refuses the packet whose
 * first `have` bytes are at p (of a `len`-byte payload), or NULL when it
 * may go on: too short for its header, or flags manx does not know or did
 * not negotiate (a flag may change the response's format). */
const char *mx_stmt_bulk_refusal(const uint8_t *p, uint32_t have);
/* The bulk execute of st is about to run as ss: remember the types it
 * sends.  Returns 1 when it sends none and ss never saw the ones the client
 * bound last (the packet must be rebuilt with st->types and
 * MX_BULK_SEND_TYPES), 0 when it may go as it is, -1 out of memory. */
int mx_stmt_bulk_types(mx_stmt_t *st, mx_sstmt_t *ss, const uint8_t *p, uint32_t have);

#endif
