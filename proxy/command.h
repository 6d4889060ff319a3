/* Reading and consuming one client command (command.c). */
#ifndef MX_PROXY_COMMAND_H
#define MX_PROXY_COMMAND_H

#include "proxy-t.h"
#include "router/classify.h"
#include "router/policy.h"

/* The payload of the command in hand: `len` its length (of the first
 * packet when it goes on past 0xFFFFFF and is streamed), `have` the bytes
 * of it at hand. */
const uint8_t *mx__cmd_payload(const mx_client_t *cl, uint32_t *len, uint32_t *have);

bool mx__bytes_put(mx_bytes_t *b, const void *p, size_t n);

/* Done with the command in hand: consume it, whole or not. */
void mx__drop_command(mx_client_t *cl);

/* Discard what remains of a dropped command.  Returns true when it is all
 * gone and the next command can be looked at. */
bool mx__discard_input(mx_client_t *cl);

/* Copy the command at rpos into cl->big as it arrives, following
 * continuation packets.  Returns 1 when it is whole, 0 when more must
 * arrive, -1 when it exceeds max_packet (the client was closed). */
int mx__assemble(mx_client_t *cl);

/* Write `len` payload bytes to the backend as one command (packets of at
 * most 0xFFFFFF bytes, sequence ids from 0), without copying them unless
 * the socket cannot take them now. */
bool mx__send_payload(mx_conn_t *to, const uint8_t *p, size_t len);

/* Read the client again unless its buffer is still half full of data that
 * waits its turn, or the backend has not taken what was sent. */
void mx__resume_reading(mx_client_t *cl);

/* After the client's input was processed: time the silence that follows.
 * A client in the middle of a packet (or of LOCAL INFILE data) gets
 * net_read_timeout, an idle one client_idle_timeout; a session waiting for
 * its backend's answer or for the pool is not timed here. */
void mx__arm_timer(mx_client_t *cl);

#endif
