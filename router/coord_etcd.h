/* coordination = etcd (router/coord_etcd.c): the mode's entry points,
 * called by router/coord.c on the heartbeat thread. */
#ifndef MX_ROUTER_COORD_ETCD_H
#define MX_ROUTER_COORD_ETCD_H

#include <stdbool.h>

#include "coord.h"

int mx__etcd_new(mx_coord_t *c);
void mx__etcd_start(mx_coord_t *c);
void mx__etcd_adopt(mx_coord_t *c);
void mx__etcd_host_changed(mx_coord_t *c, const mx_datahost_t *dh);
void mx__etcd_propose(mx_coord_t *c, const mx_datahost_t *dh, int from, int to, const char *why);
void mx__etcd_stop(mx_coord_t *c);
void mx__etcd_free(mx_coord_t *c);

#endif
