/* Every live client session by id, for KILL from any worker: which worker
 * holds it, which manx user it is logged in as, whether it is a console
 * session.  The only table workers share; a mutex guards it (touched at
 * accept, login, close and KILL, never per statement). */
#ifndef MX_PROXY_REGISTRY_H
#define MX_PROXY_REGISTRY_H

#include "proxy-t.h"

typedef struct mx_reg_info_s {
    int worker;                  /* index of the worker that holds the session */
    uint32_t user_key;           /* logged-in user's key (mx_user_t.key), 0 before login */
    bool admin;                  /* a session of the admin console */
} mx_reg_info_t;

void mx_registry_add(mx_client_t *cl);
/* The session logged in (again, after COM_CHANGE_USER) as cl->user. */
void mx_registry_set_user(mx_client_t *cl);
void mx_registry_del(mx_client_t *cl);
/* A login of cl took a session slot of user `key` (proxy/access.h): held
 * as pending until mx_registry_set_user makes it the session's (giving
 * back the slot of the user it was), given back by mx_registry_del or the
 * next login's slot. */
void mx_registry_set_slot(mx_client_t *cl, uint32_t key);
/* False when no live session has that id. */
bool mx_registry_find(uint32_t id, mx_reg_info_t *out) __attribute__((warn_unused_result));

#endif
