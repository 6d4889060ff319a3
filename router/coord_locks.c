/* coordination = backend_locks: being written (issue 13); until then a
 * configuration asking for it does not start. */
#include "coord-t.h"
#include "coord_locks.h"

int mx__locks_new(mx_coord_t *c)
{
    c->log(CO_LOG_ERROR, "coordination = backend_locks: not available in this build yet");
    return -1;
}
void mx__locks_adopt(mx_coord_t *c) { (void)c; }
void mx__locks_beat(mx_coord_t *c, const mx_datahost_t *dh, int slot, bool fresh) { (void)c; (void)dh; (void)slot; (void)fresh; }
void mx__locks_host_changed(mx_coord_t *c, const mx_datahost_t *dh) { (void)c; (void)dh; }
void mx__locks_propose(mx_coord_t *c, const mx_datahost_t *dh, int from, int to, const char *why) { (void)c; (void)dh; (void)from; (void)to; (void)why; }
void mx__locks_stop(mx_coord_t *c) { (void)c; }
void mx__locks_free(mx_coord_t *c) { (void)c; }
