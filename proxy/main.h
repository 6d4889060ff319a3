/* What main.c offers the rest of the proxy: the reload, which SIGHUP runs
 * and the admin console may run (on the main thread only). */
#ifndef MX_PROXY_MAIN_H
#define MX_PROXY_MAIN_H

#include <stdbool.h>
#include <stddef.h>

/* Load the config file again as a new generation and swap it in: the
 * heartbeat and every worker adopt it on their own loops, new sessions use
 * it at once and others from their next statement; the old generation is
 * freed when its last holder lets go.  A file that does not load, changes a
 * "Reload: no" key or runs out of slots changes nothing: false, with
 * "file:line: key: reason" in err.  Main thread only. */
bool mx_reload(char *err, size_t errlen) __attribute__((warn_unused_result));

#endif
