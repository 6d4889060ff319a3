/* One statement in flight: forwarding and streaming the response (relay.c). */
#ifndef MX_PROXY_RELAY_H
#define MX_PROXY_RELAY_H

#include "proxy-t.h"
#include "router/classify.h"
#include "router/policy.h"

/* Forward as much of the current command's bytes as are buffered. */
bool mx__pump_request(mx_client_t *cl);

void mx__forward_command(mx_client_t *cl);

/* Stream the backend's response to the client from the backend's buffer. */
void mx_client_server_data(mx_client_t *cl);

void mx_client_server_drained(mx_client_t *cl);

/* The command and its response are complete. */
void mx__command_done(mx_client_t *cl);

void mx_client_server_lost(mx_client_t *cl, mx_server_t *sv, const char *why);

#endif
