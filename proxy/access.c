/* [user] hosts and max_connections at login (see access.h).  The counts
 * are one table of atomics shared by every worker: taking a slot is a
 * compare-and-swap that never passes the limit, giving one back a
 * decrement, so no lock is needed and no two logins can both take the
 * last slot. */
#include "access.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <arpa/inet.h>

#include "log.h"
#include "proxy-t.h"
#include "registry.h"

mx_access_counts_t mx_access_counts;

/* Matches pattern p against address a from their starts. */
static bool match_from(const char *p, const char *a)
{
    for (; *p; p++) {
        if (*p == '*' || *p == '%') {
            /* A run of digits, possibly empty, as Mycat's [0-9]*; the last
             * wildcard also takes whatever octets follow. */
            if (p[1] == '\0') {
                for (; *a; a++)
                    if (!(*a >= '0' && *a <= '9') && *a != '.')
                        return false;
                return true;
            }
            size_t n = 0;
            while (a[n] >= '0' && a[n] <= '9')
                n++;
            /* Try the longest run first; backtracking is bounded by the
             * 15 bytes of an IPv4 address. */
            for (size_t k = n + 1; k-- > 0;)
                if (match_from(p + 1, a + k))
                    return true;
            return false;
        }
        if (*a != *p)
            return false;
        a++;
    }
    return *a == '\0';
}

/* "::ffff:1.2.3.4" (an IPv4 client on a dual-stack socket) as "1.2.3.4". */
static const char *unmapped(const char *addr)
{
    static const char prefix[] = "::ffff:";
    size_t i = 0;
    while (prefix[i] && (addr[i] | 0x20) == (prefix[i] | 0x20))
        i++;
    if (prefix[i] == '\0' && strchr(addr + i, '.'))
        return addr + i;
    return addr;
}

bool mx_access_host_match(const char *pattern, const char *addr)
{
    addr = unmapped(addr);
    if (strlen(addr) >= 64 || strlen(pattern) >= MX_HOST_PATTERN_MAX)
        return false;
    if (!strpbrk(pattern, "*%")) {
        /* Exact: compared as addresses, so that ::1 and 0::1 are one. */
        unsigned char x[16], y[16];
        if (inet_pton(AF_INET, pattern, x) == 1 && inet_pton(AF_INET, addr, y) == 1)
            return memcmp(x, y, 4) == 0;
        if (inet_pton(AF_INET6, pattern, x) == 1 && inet_pton(AF_INET6, addr, y) == 1)
            return memcmp(x, y, 16) == 0;
        return strcasecmp(pattern, addr) == 0;
    }
    /* Wildcards are for IPv4 only: an address with anything else fails. */
    for (const char *c = addr; *c; c++)
        if (!(*c >= '0' && *c <= '9') && *c != '.')
            return false;
    return match_from(pattern, addr);
}

bool mx_access_user_allows(const mx_user_t *u, const char *addr)
{
    if (u->n_hosts == 0)
        return true;
    for (size_t i = 0; i < u->n_hosts; i++)
        if (mx_access_host_match(u->hosts[i], addr))
            return true;
    return false;
}

bool mx_access_any_allows(const mx_config_t *c, const char *addr)
{
    for (size_t i = 0; i < c->n_users; i++)
        if (mx_access_user_allows(&c->users[i], addr))
            return true;
    return false;
}

bool mx_access_take(mx_access_counts_t *t, uint32_t key, int limit)
{
    _Atomic int *n = &t->n[key % MX_ACCESS_SLOTS];
    int cur = atomic_load_explicit(n, memory_order_relaxed);
    do {
        if (limit > 0 && cur >= limit)
            return false;
    } while (!atomic_compare_exchange_weak_explicit(n, &cur, cur + 1, memory_order_acq_rel, memory_order_relaxed));
    return true;
}

void mx_access_give(mx_access_counts_t *t, uint32_t key)
{
    atomic_fetch_sub_explicit(&t->n[key % MX_ACCESS_SLOTS], 1, memory_order_acq_rel);
}

int mx_access_count(const mx_access_counts_t *t, uint32_t key)
{
    return atomic_load_explicit(&t->n[key % MX_ACCESS_SLOTS], memory_order_relaxed);
}

mx_access_verdict_t mx_access_check(mx_access_counts_t *t, const mx_config_t *cfg, const mx_user_t *user,
                                    const char *addr, uint32_t *slot, char *msg, size_t msglen)
{
    *slot = 0;
    /* Before the user is looked at, as MySQL does: the same answer for
     * every name, so it tells nothing about which users exist. */
    if (!mx_access_any_allows(cfg, addr)) {
        snprintf(msg, msglen, "Host '%s' is not allowed to connect to this MySQL server", addr);
        return MX_ACCESS_NO_HOST;
    }
    if (!user)
        return MX_ACCESS_OK;
    /* Answered like a wrong password, so that it tells nothing either. */
    if (!mx_access_user_allows(user, addr)) {
        snprintf(msg, msglen, "Access denied for user '%s'@'%s'", user->name, addr);
        return MX_ACCESS_DENIED;
    }
    if (!mx_access_take(t, user->key, user->max_connections)) {
        snprintf(msg, msglen, "User '%s' has exceeded the 'max_user_connections' resource (current value: %d)",
                 user->name, user->max_connections);
        return MX_ACCESS_TOO_MANY;
    }
    *slot = user->key;
    return MX_ACCESS_OK;
}

mx_access_verdict_t mx_access_login(mx_client_t *cl, char *msg, size_t msglen)
{
    char addr[64];
    snprintf(addr, sizeof(addr), "%s", cl->peer);
    char *colon = strrchr(addr, ':');
    if (colon)
        *colon = '\0';
    uint32_t slot;
    mx_access_verdict_t v = mx_access_check(&mx_access_counts, cl->cfg, cl->user, addr, &slot, msg, msglen);
    if (v != MX_ACCESS_OK)
        mx_warn("C-%u %s@%s: login refused: %s", cl->id, cl->user_name, cl->peer,
                v == MX_ACCESS_NO_HOST ? "no user may log in from this address ([user] hosts)"
                : v == MX_ACCESS_DENIED ? "the user may not log in from this address ([user] hosts)"
                                        : "the user's max_connections is reached");
    else if (slot)
        mx_registry_set_slot(cl, slot);
    return v;
}
