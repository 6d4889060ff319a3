/* Tests for proxy/access.c: the address patterns of [user] hosts (Mycat's
 * whitehost wildcards, anchored), the login verdicts and the per-user
 * session counts, also under concurrent takers. */
#include <pthread.h>
#include <stdlib.h>

#include "proxy/access.h"
#include "test.h"

static const struct {
    const char *pattern, *addr;
    bool match;
} cases[] = {
    {"127.0.0.1", "127.0.0.1", true},
    {"127.0.0.1", "127.0.0.10", false},
    {"127.0.0.*", "127.0.0.1", true},
    {"127.0.0.*", "127.0.0.254", true},
    {"127.0.0.*", "127.0.1.1", false},
    {"127.0.0.%", "127.0.0.77", true},
    {"10.0.%", "10.0.3.4", true},
    {"10.0.%", "110.0.3.4", false},     /* Mycat's unanchored search admitted this */
    {"10.0.%", "10.1.3.4", false},
    {"192.168.%.1", "192.168.5.1", true},
    {"192.168.%.1", "192.168.5.12", false},
    {"192.168.%.1", "192.168.5.6.1", false}, /* a wildcard inside stays within one octet */
    {"192.168.1.%", "192.168.10.5", false},
    {"%", "8.8.8.8", true},
    {"%", "::1", false},                /* wildcards are IPv4 only */
    {"::1", "::1", true},
    {"::1", "0:0::1", true},
    {"::1", "::2", false},
    {"127.0.0.*", "::ffff:127.0.0.9", true},
    {"127.0.0.1", "::ffff:127.0.0.1", true},
    {"1*2", "12", true},
    {"1*2", "1992", true},
    {"1*2", "1a2", false},
    {"", "127.0.0.1", false},
};

static void test_match(void)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        bool got = mx_access_host_match(cases[i].pattern, cases[i].addr);
        if (got != cases[i].match)
            fprintf(stderr, "pattern '%s' addr '%s'\n", cases[i].pattern, cases[i].addr);
        ASSERT_EQ(got, cases[i].match);
    }
}

static void test_verdicts(void)
{
    static mx_access_counts_t t;
    mx_user_t users[2] = {0};
    snprintf(users[0].name, sizeof(users[0].name), "app");
    snprintf(users[0].hosts[0], MX_HOST_PATTERN_MAX, "127.0.0.*");
    users[0].n_hosts = 1;
    users[0].max_connections = 2;
    users[0].key = 1;
    snprintf(users[1].name, sizeof(users[1].name), "ro");
    snprintf(users[1].hosts[0], MX_HOST_PATTERN_MAX, "10.0.%%");
    users[1].n_hosts = 1;
    users[1].key = 2;
    mx_config_t c = {0};
    c.users = users;
    c.n_users = 2;
    char msg[200];
    uint32_t slot;

    ASSERT_EQ(mx_access_check(&t, &c, &users[0], "192.168.1.1", &slot, msg, sizeof(msg)), MX_ACCESS_NO_HOST);
    ASSERT_STR_EQ(msg, "Host '192.168.1.1' is not allowed to connect to this MySQL server");
    ASSERT_EQ(mx_access_check(&t, &c, NULL, "192.168.1.1", &slot, msg, sizeof(msg)), MX_ACCESS_NO_HOST);
    ASSERT_EQ(mx_access_check(&t, &c, NULL, "10.0.0.1", &slot, msg, sizeof(msg)), MX_ACCESS_OK);
    ASSERT_EQ(slot, 0);
    ASSERT_EQ(mx_access_check(&t, &c, &users[0], "10.0.0.1", &slot, msg, sizeof(msg)), MX_ACCESS_DENIED);
    ASSERT_EQ(mx_access_count(&t, 1), 0);
    ASSERT_EQ(mx_access_check(&t, &c, &users[0], "127.0.0.1", &slot, msg, sizeof(msg)), MX_ACCESS_OK);
    ASSERT_EQ(slot, 1);
    ASSERT_EQ(mx_access_check(&t, &c, &users[0], "127.0.0.2", &slot, msg, sizeof(msg)), MX_ACCESS_OK);
    ASSERT_EQ(mx_access_check(&t, &c, &users[0], "127.0.0.3", &slot, msg, sizeof(msg)), MX_ACCESS_TOO_MANY);
    ASSERT_STR_EQ(msg, "User 'app' has exceeded the 'max_user_connections' resource (current value: 2)");
    ASSERT_EQ(mx_access_count(&t, 1), 2);
    mx_access_give(&t, 1);
    ASSERT_EQ(mx_access_check(&t, &c, &users[0], "127.0.0.3", &slot, msg, sizeof(msg)), MX_ACCESS_OK);
    /* No limit still counts, so that a limit a reload adds is right. */
    for (int i = 0; i < 5; i++)
        ASSERT_EQ(mx_access_check(&t, &c, &users[1], "10.0.9.9", &slot, msg, sizeof(msg)), MX_ACCESS_OK);
    ASSERT_EQ(mx_access_count(&t, 2), 5);
    /* No hosts at all: any address. */
    users[1].n_hosts = 0;
    ASSERT_EQ(mx_access_check(&t, &c, &users[1], "8.8.8.8", &slot, msg, sizeof(msg)), MX_ACCESS_OK);
}

/* Many threads race for 10 slots: exactly 10 win. */
static mx_access_counts_t race;
static _Atomic int winners;

static void *taker(void *arg)
{
    (void)arg;
    for (int i = 0; i < 1000; i++) {
        if (mx_access_take(&race, 7, 10)) {
            atomic_fetch_add(&winners, 1);
            if (i % 2)
                continue;  /* keep it */
            atomic_fetch_sub(&winners, 1);
            mx_access_give(&race, 7);
        }
    }
    return NULL;
}

static void test_race(void)
{
    pthread_t th[8];
    for (int i = 0; i < 8; i++)
        pthread_create(&th[i], NULL, taker, NULL);
    for (int i = 0; i < 8; i++)
        pthread_join(th[i], NULL);
    ASSERT_EQ(winners, 10);
    ASSERT_EQ(mx_access_count(&race, 7), 10);
}

int main(void)
{
    test_match();
    test_verdicts();
    test_race();
    return mx_test_summary("access");
}
