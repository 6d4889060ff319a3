/* A client session's login, change user and reset (login.c). */
#ifndef MX_PROXY_LOGIN_H
#define MX_PROXY_LOGIN_H

#include "proxy-t.h"
#include "router/classify.h"
#include "router/policy.h"

void mx_client_accept(mx_worker_t *w, uv_stream_t *listener, bool admin);

/* Select the logical schema `name` for the session.  Sends the error and
 * returns false when it does not exist or the user may not see it. */
bool mx__select_schema(mx_client_t *cl, const char *name, size_t len, uint8_t seq);

/* The user's schemas whose database has another name: what the client
 * must see renamed in results (protocol/schemamap.h).  False when out of
 * memory. */
bool mx__build_smap(mx_client_t *cl);

/* The client's further auth packets (after a switch or during full
 * caching_sha2 authentication). */
void mx__auth_more(mx_client_t *cl, const uint8_t *p, uint32_t len, uint8_t seq);

void mx__handle_login(mx_client_t *cl, const uint8_t *p, uint32_t len, uint8_t seq);

void mx__reset_session(mx_client_t *cl);

void mx__change_user(mx_client_t *cl, const uint8_t *p, uint32_t len);

#endif
