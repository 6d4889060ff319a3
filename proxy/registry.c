/* The session registry: a fixed array of buckets, chained through a node
 * embedded in each client (mx_client_t.reg), so adding and removing never
 * allocates.  See registry.h. */
#include "registry.h"

#include <pthread.h>

#include "access.h"

#define REG_BUCKETS 4096

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static mx_reg_node_t *buckets[REG_BUCKETS];

void mx_registry_add(mx_client_t *cl)
{
    mx_reg_node_t *n = &cl->reg;
    n->id = cl->id;
    n->worker = cl->conn.w->index;
    n->admin = cl->admin;
    n->user_key = 0;
    n->slot = n->pending = 0;
    pthread_mutex_lock(&reg_lock);
    n->next = buckets[n->id % REG_BUCKETS];
    buckets[n->id % REG_BUCKETS] = n;
    n->linked = true;
    pthread_mutex_unlock(&reg_lock);
}

void mx_registry_set_user(mx_client_t *cl)
{
    mx_reg_node_t *n = &cl->reg;
    pthread_mutex_lock(&reg_lock);
    n->user_key = cl->user ? cl->user->key : 0;
    if (n->pending) {
        if (n->slot)
            mx_access_give(&mx_access_counts, n->slot);
        n->slot = n->pending;
        n->pending = 0;
    }
    pthread_mutex_unlock(&reg_lock);
}

void mx_registry_set_slot(mx_client_t *cl, uint32_t key)
{
    mx_reg_node_t *n = &cl->reg;
    pthread_mutex_lock(&reg_lock);
    /* A COM_CHANGE_USER that failed left its slot pending. */
    if (n->pending)
        mx_access_give(&mx_access_counts, n->pending);
    n->pending = key;
    pthread_mutex_unlock(&reg_lock);
}

void mx_registry_del(mx_client_t *cl)
{
    mx_reg_node_t *n = &cl->reg;
    pthread_mutex_lock(&reg_lock);
    if (n->linked) {
        for (mx_reg_node_t **pp = &buckets[n->id % REG_BUCKETS]; *pp; pp = &(*pp)->next) {
            if (*pp == n) {
                *pp = n->next;
                break;
            }
        }
        n->linked = false;
    }
    if (n->slot)
        mx_access_give(&mx_access_counts, n->slot);
    if (n->pending)
        mx_access_give(&mx_access_counts, n->pending);
    n->slot = n->pending = 0;
    pthread_mutex_unlock(&reg_lock);
}

bool mx_registry_find(uint32_t id, mx_reg_info_t *out)
{
    bool found = false;
    pthread_mutex_lock(&reg_lock);
    for (mx_reg_node_t *n = buckets[id % REG_BUCKETS]; n; n = n->next) {
        if (n->id == id) {
            out->worker = n->worker;
            out->user_key = n->user_key;
            out->admin = n->admin;
            found = true;
            break;
        }
    }
    pthread_mutex_unlock(&reg_lock);
    return found;
}
