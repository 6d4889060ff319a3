/* coordination = backend_locks (router/coord_locks.c): the mode's entry points,
 * called by router/coord.c on the heartbeat thread. */
#ifndef MX_ROUTER_COORD_LOCKS_H
#define MX_ROUTER_COORD_LOCKS_H

#include <stdbool.h>

#include "coord.h"

int mx__locks_new(mx_coord_t *c);
void mx__locks_beat(mx_coord_t *c, const mx_datahost_t *dh, int slot, bool fresh);
void mx__locks_adopt(mx_coord_t *c);
void mx__locks_host_changed(mx_coord_t *c, const mx_datahost_t *dh);
void mx__locks_propose(mx_coord_t *c, const mx_datahost_t *dh, int from, int to, const char *why);
void mx__locks_stop(mx_coord_t *c);
void mx__locks_free(mx_coord_t *c);

#endif
