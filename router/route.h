/* Host choice for reads: Mycat's balance semantics over the dataHost's
 * hosts, skipping hosts that are down, suspect or (switch_type = 2)
 * lagging, weighted by `weight` and preferring the least outstanding
 * requests.  No I/O; the caller supplies the load per host. */
#ifndef MX_ROUTER_ROUTE_H
#define MX_ROUTER_ROUTE_H

#include "conf/conf.h"
#include "router/health.h"

/* Outstanding requests on host `index` as the caller sees them. */
typedef int (*mx_route_load_fn)(void *arg, int index);

/* Pick the host for a read on dataHost `dh` (index `di` in the config).
 * Returns the config index of the chosen host, or -1 when no read
 * candidate is usable (the caller then reads from the writer).
 * `rr` is the caller's round-robin cursor for ties. */
int mx_route_read_host(const mx_datahost_t *dh, size_t di, mx_health_t *h, mx_route_load_fn load,
                       void *arg, unsigned *rr);

/* write_type = 1: the writeHost for a write, spread over the writeHosts
 * that are up (least outstanding first, weighted).  Returns -1 when none is
 * up (the caller then uses the active writeHost and gets its error). */
int mx_route_write_host(const mx_datahost_t *dh, mx_health_t *h, mx_route_load_fn load, void *arg,
                        unsigned *rr);

/* Whether host `index` may serve reads right now (up, not suspect, and
 * under switch_type = 2 replicating within slave_threshold). */
bool mx_route_readable(const mx_datahost_t *dh, mx_health_t *h, int index);

#endif
