/* The lockout table: a fixed number of slots (an address the table has no
 * room for takes the slot of the entry least recently touched), guarded by
 * one mutex; it is touched at login only.  See lockout.h. */
#include "lockout.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <uv.h>

#include "proxy-t.h"

#define SLOTS 1024
#define MAX_LOCK_MS (3600u * 1000u)

typedef struct {
    char ip[64];                 /* "" = free */
    uint32_t failures;           /* in a row */
    uint64_t until;              /* locked until (ms, monotonic); 0 = not locked */
    uint64_t lock_ms;            /* length of the last lockout */
    uint64_t touched;
} entry_t;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static entry_t table[SLOTS];

static uint64_t now_ms(void)
{
    return uv_hrtime() / 1000000u;
}

/* The entry of ip, or NULL (caller holds the lock). */
static entry_t *find(const char *ip)
{
    for (size_t i = 0; i < SLOTS; i++)
        if (table[i].ip[0] && strcmp(table[i].ip, ip) == 0)
            return &table[i];
    return NULL;
}

bool mx_lockout_blocked(const mx_config_t *cfg, const char *ip, uint64_t *left_ms)
{
    if (cfg->max_login_failures <= 0)
        return false;
    uint64_t now = now_ms();
    bool blocked = false;
    pthread_mutex_lock(&lock);
    entry_t *e = find(ip);
    if (e && e->until > now) {
        *left_ms = e->until - now;
        blocked = true;
    }
    pthread_mutex_unlock(&lock);
    return blocked;
}

uint64_t mx_lockout_failed(const mx_config_t *cfg, const char *ip)
{
    int max = cfg->max_login_failures;
    if (max <= 0)
        return 0;
    uint64_t now = now_ms(), started = 0;
    pthread_mutex_lock(&lock);
    entry_t *e = find(ip);
    if (!e) {
        e = &table[0];
        for (size_t i = 0; i < SLOTS; i++) {
            if (!table[i].ip[0]) {
                e = &table[i];
                break;
            }
            if (table[i].touched < e->touched)
                e = &table[i];
        }
        memset(e, 0, sizeof(*e));
        snprintf(e->ip, sizeof(e->ip), "%s", ip);
    }
    e->touched = now;
    e->failures++;
    if (e->failures >= (uint32_t)max) {
        /* The first lockout lasts login_lockout; each one that follows more
         * failures doubles, up to an hour. */
        uint64_t ms = e->lock_ms ? e->lock_ms * 2 : (uint64_t)cfg->login_lockout_ms;
        if (ms > MAX_LOCK_MS)
            ms = MAX_LOCK_MS;
        e->lock_ms = ms;
        e->until = now + ms;
        e->failures = (uint32_t)max - 1; /* one more failure after it locks again */
        started = ms;
    }
    pthread_mutex_unlock(&lock);
    return started;
}

void mx_lockout_succeeded(const char *ip)
{
    pthread_mutex_lock(&lock);
    entry_t *e = find(ip);
    if (e)
        memset(e, 0, sizeof(*e));
    pthread_mutex_unlock(&lock);
}
