/* Tests for the authentication helpers: known vectors for the
 * mysql_native_password and caching_sha2_password scrambles (computed
 * independently with Python's hashlib), the server-side checks, random
 * scrambles and the RSA-OAEP password exchange with a key made at run time. */
#include <stdbool.h>
#include <stdlib.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "protocol/auth.h"
#include "test.h"

static void unhex(const char *hex, uint8_t *out)
{
    size_t n = strlen(hex) / 2;
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        sscanf(hex + 2 * i, "%2x", &v);
        out[i] = (uint8_t)v;
    }
}

static const uint8_t scramble[MX_SCRAMBLE_LEN] = "abcdefghijklmnopqrst";

/* password, SHA1(pw) ^ SHA1(scramble + SHA1(SHA1(pw))),
 * SHA256(pw) ^ SHA256(SHA256(SHA256(pw)) + scramble) */
static const struct {
    const char *pw;
    const char *native;
    const char *sha2;
} vectors[] = {
    {"secret", "8817c50fa779daef010ee7577825b0847df9842e",
     "c76e2898612a4cf042c77fa8c4702c4c64c0c2c557c53c4d75595aaa6abae809"},
    {"123456", "d60964a065ebdc3c10e9fa891ae22625c9ae276c",
     "5d66f78d0d40087808f7afa569ad8902b7be596ea2dd6a9812ffa76cf231fc7c"},
    {"p\xc3\xa4ssw\xc3\xb6rd", "bbac5880403c8943680f3e56f928c964753198c0",
     "c2f2b3d19aa93ee5d0629e3ec103da650b3d52d906618d526498606d78c7505b"},
};

static void test_native(void)
{
    uint8_t stage2[MX_SHA1_LEN], parsed[MX_SHA1_LEN], want[MX_SHA256_LEN], out[MX_SHA1_LEN];
    size_t out_len = 99;

    /* MySQL's PASSWORD('123456'). */
    mx_native_stage2("123456", 6, stage2);
    ASSERT_TRUE(mx_native_parse_hash("*6BB4837EB74329105EE4568DDA7DC67ED2CA2AD9", parsed));
    ASSERT_MEM_EQ(stage2, parsed, MX_SHA1_LEN);
    ASSERT_TRUE(mx_native_parse_hash("*6bb4837eb74329105ee4568dda7dc67ed2ca2ad9", parsed));
    ASSERT_MEM_EQ(stage2, parsed, MX_SHA1_LEN);
    ASSERT_TRUE(!mx_native_parse_hash("6BB4837EB74329105EE4568DDA7DC67ED2CA2AD9", parsed));
    ASSERT_TRUE(!mx_native_parse_hash("*6BB4837EB74329105EE4568DDA7DC67ED2CA2AD", parsed));
    ASSERT_TRUE(!mx_native_parse_hash("*6BB4837EB74329105EE4568DDA7DC67ED2CA2AD90", parsed));
    ASSERT_TRUE(!mx_native_parse_hash("*6BB4837EB74329105EE4568DDA7DC67ED2CA2ADG", parsed));
    ASSERT_TRUE(!mx_native_parse_hash("", parsed));
    ASSERT_TRUE(!mx_native_parse_hash(NULL, parsed));

    for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
        const char *pw = vectors[i].pw;
        unhex(vectors[i].native, want);
        mx_native_scramble(scramble, pw, strlen(pw), out, &out_len);
        ASSERT_EQ(out_len, MX_SHA1_LEN);
        ASSERT_MEM_EQ(out, want, MX_SHA1_LEN);

        mx_native_stage2(pw, strlen(pw), stage2);
        ASSERT_TRUE(mx_native_check(scramble, out, out_len, stage2, false));
        ASSERT_TRUE(!mx_native_check(scramble, out, out_len - 1, stage2, false));
        ASSERT_TRUE(!mx_native_check(scramble, out, 0, stage2, false));
        ASSERT_TRUE(!mx_native_check(scramble, out, out_len, stage2, true));
        out[7] ^= 1;
        ASSERT_TRUE(!mx_native_check(scramble, out, out_len, stage2, false));
        out[7] ^= 1;
        /* Another scramble, another response. */
        uint8_t other[MX_SCRAMBLE_LEN];
        memcpy(other, scramble, sizeof(other));
        other[19] = 'u';
        ASSERT_TRUE(!mx_native_check(other, out, out_len, stage2, false));
    }

    /* Empty password: empty response, accepted only as such. */
    mx_native_scramble(scramble, "", 0, out, &out_len);
    ASSERT_EQ(out_len, 0);
    mx_native_stage2("", 0, stage2);
    ASSERT_TRUE(mx_native_check(scramble, out, 0, stage2, true));
    uint8_t junk[MX_SHA1_LEN] = {1};
    ASSERT_TRUE(!mx_native_check(scramble, junk, sizeof(junk), stage2, true));
    ASSERT_TRUE(!mx_native_check(scramble, junk, 1, stage2, true));
}

static void test_sha2(void)
{
    uint8_t want[MX_SHA256_LEN], out[MX_SHA256_LEN];

    for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
        const char *pw = vectors[i].pw;
        unhex(vectors[i].sha2, want);
        mx_sha2_scramble(scramble, pw, strlen(pw), out);
        ASSERT_MEM_EQ(out, want, MX_SHA256_LEN);
        ASSERT_TRUE(mx_sha2_check(scramble, out, sizeof(out), pw, strlen(pw)));
        ASSERT_TRUE(!mx_sha2_check(scramble, out, sizeof(out) - 1, pw, strlen(pw)));
        ASSERT_TRUE(!mx_sha2_check(scramble, out, sizeof(out), pw, strlen(pw) - 1));
        ASSERT_TRUE(!mx_sha2_check(scramble, out, sizeof(out), "", 0));
        out[31] ^= 0x80;
        ASSERT_TRUE(!mx_sha2_check(scramble, out, sizeof(out), pw, strlen(pw)));
    }
    /* Empty password: nothing, or libmysqlclient's lone NUL. */
    static const uint8_t nul[1] = {0}, one[1] = {1};
    ASSERT_TRUE(mx_sha2_check(scramble, NULL, 0, "", 0));
    ASSERT_TRUE(mx_sha2_check(scramble, nul, 1, "", 0));
    ASSERT_TRUE(!mx_sha2_check(scramble, one, 1, "", 0));
    ASSERT_TRUE(!mx_sha2_check(scramble, nul, 1, "x", 1));
}

static void test_random_scramble(void)
{
    uint8_t a[4096], b[MX_SCRAMBLE_LEN];
    int seen[128] = {0};
    int distinct = 0;

    ASSERT_TRUE(mx_auth_random_scramble(a, sizeof(a)));
    for (size_t i = 0; i < sizeof(a); i++) {
        ASSERT_TRUE(a[i] >= 1 && a[i] <= 127 && a[i] != '$');
        if (a[i] < 128 && !seen[a[i]]++)
            distinct++;
    }
    /* 4096 draws over 126 values: all but a few must appear. */
    ASSERT_TRUE(distinct > 110);
    ASSERT_TRUE(mx_auth_random_scramble(b, sizeof(b)));
    ASSERT_TRUE(memcmp(a, b, sizeof(b)) != 0);
    ASSERT_TRUE(mx_auth_random_scramble(b, 0));
}

static void test_rsa(void)
{
    EVP_PKEY *key = EVP_RSA_gen(2048), *other = EVP_RSA_gen(2048);
    BIO *bio = BIO_new(BIO_s_mem());
    char *pem;
    long pem_len;
    uint8_t ct[512];
    char pw[128];
    int n, m;

    ASSERT_TRUE(key && other && bio);
    if (!key || !other || !bio)
        return;
    ASSERT_EQ(PEM_write_bio_PUBKEY(bio, key), 1);
    pem_len = BIO_get_mem_data(bio, &pem);
    ASSERT_TRUE(pem_len > 0);

    static const char *const passwords[] = {"secret", "", "p\xc3\xa4ssw\xc3\xb6rd",
        "a-password-longer-than-the-twenty-byte-scramble-so-it-wraps"};
    for (size_t i = 0; i < sizeof(passwords) / sizeof(passwords[0]); i++) {
        const char *p = passwords[i];
        n = mx_sha2_rsa_encrypt(pem, (size_t)pem_len, scramble, MX_SCRAMBLE_LEN, p, strlen(p),
                                ct, sizeof(ct));
        ASSERT_EQ(n, 256);
        memset(pw, 'z', sizeof(pw));
        m = mx_sha2_rsa_decrypt(key, ct, (size_t)n, scramble, MX_SCRAMBLE_LEN, pw, sizeof(pw));
        ASSERT_EQ(m, (int)strlen(p));
        if (m >= 0) {
            ASSERT_STR_EQ(pw, p);
        }
    }

    /* The plaintext really is (password + NUL) XOR scramble under OAEP. */
    n = mx_sha2_rsa_encrypt(pem, (size_t)pem_len, scramble, MX_SCRAMBLE_LEN, "secret", 6, ct,
                            sizeof(ct));
    {
        EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(key, NULL);
        uint8_t plain[256];
        size_t plen = sizeof(plain);
        ASSERT_TRUE(ctx && EVP_PKEY_decrypt_init(ctx) > 0);
        ASSERT_TRUE(EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) > 0);
        ASSERT_TRUE(EVP_PKEY_decrypt(ctx, plain, &plen, ct, (size_t)n) > 0);
        ASSERT_EQ(plen, 7);
        static const uint8_t want[7] = {'s' ^ 'a', 'e' ^ 'b', 'c' ^ 'c', 'r' ^ 'd', 'e' ^ 'e',
                                        't' ^ 'f', 0 ^ 'g'};
        ASSERT_MEM_EQ(plain, want, 7);
        EVP_PKEY_CTX_free(ctx);
    }

    /* Wrong scramble, wrong key, damaged ciphertext, small output. */
    uint8_t other_scr[MX_SCRAMBLE_LEN];
    memcpy(other_scr, scramble, sizeof(other_scr));
    other_scr[6] ^= 0x55;
    ASSERT_EQ(mx_sha2_rsa_decrypt(key, ct, (size_t)n, other_scr, MX_SCRAMBLE_LEN, pw, sizeof(pw)), -1);
    ASSERT_EQ(mx_sha2_rsa_decrypt(other, ct, (size_t)n, scramble, MX_SCRAMBLE_LEN, pw, sizeof(pw)), -1);
    ct[100] ^= 1;
    ASSERT_EQ(mx_sha2_rsa_decrypt(key, ct, (size_t)n, scramble, MX_SCRAMBLE_LEN, pw, sizeof(pw)), -1);
    ct[100] ^= 1;
    ASSERT_EQ(mx_sha2_rsa_decrypt(key, ct, (size_t)n - 1, scramble, MX_SCRAMBLE_LEN, pw, sizeof(pw)), -1);
    ASSERT_EQ(mx_sha2_rsa_decrypt(key, ct, (size_t)n, scramble, MX_SCRAMBLE_LEN, pw, 6), -1);
    ASSERT_EQ(mx_sha2_rsa_decrypt(key, ct, (size_t)n, scramble, MX_SCRAMBLE_LEN, pw, 7), 6);
    ASSERT_EQ(mx_sha2_rsa_decrypt(NULL, ct, (size_t)n, scramble, MX_SCRAMBLE_LEN, pw, sizeof(pw)), -1);

    /* Bad PEM, too small an output buffer, a password OAEP cannot carry. */
    ASSERT_EQ(mx_sha2_rsa_encrypt("-----BEGIN PUBLIC KEY-----\nxx\n", 30, scramble, MX_SCRAMBLE_LEN,
                                  "secret", 6, ct, sizeof(ct)), -1);
    ASSERT_EQ(mx_sha2_rsa_encrypt(pem, (size_t)pem_len, scramble, MX_SCRAMBLE_LEN, "secret", 6, ct,
                                  255), -1);
    char huge[300];
    memset(huge, 'h', sizeof(huge));
    ASSERT_EQ(mx_sha2_rsa_encrypt(pem, (size_t)pem_len, scramble, MX_SCRAMBLE_LEN, huge,
                                  sizeof(huge), ct, sizeof(ct)), -1);

    BIO_free(bio);
    EVP_PKEY_free(key);
    EVP_PKEY_free(other);
}

int main(void)
{
    test_native();
    test_sha2();
    test_random_scramble();
    test_rsa();
    return mx_test_summary("auth");
}
