/* Intrusive doubly linked lists (pgbouncer's statlist spirit, libuv's
 * queue.h): a node lives inside the object it links, an empty list points
 * at itself, and MX_CONTAINER_OF gets the object back from its node. */
#ifndef MX_PROXY_LIST_H
#define MX_PROXY_LIST_H

#include <stdbool.h>
#include <stddef.h>

typedef struct mx_list_s {
    struct mx_list_s *next, *prev;
} mx_list_t;

#define MX_CONTAINER_OF(ptr, type, field) ((type *)((char *)(ptr) - offsetof(type, field)))

static inline void mx_list_init(mx_list_t *l) { l->next = l->prev = l; }
static inline bool mx_list_empty(const mx_list_t *l) { return l->next == l; }
static inline void mx_list_push(mx_list_t *head, mx_list_t *n)
{
    n->next = head->next;
    n->prev = head;
    head->next->prev = n;
    head->next = n;
}
static inline void mx_list_append(mx_list_t *head, mx_list_t *n)
{
    n->prev = head->prev;
    n->next = head;
    head->prev->next = n;
    head->prev = n;
}
/* Unlink n; it is left as an empty list, so a second del is harmless. */
static inline void mx_list_del(mx_list_t *n)
{
    n->prev->next = n->next;
    n->next->prev = n->prev;
    n->next = n->prev = n;
}

#endif
