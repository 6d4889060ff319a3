/* Password scrambles for mysql_native_password and caching_sha2_password,
 * computed with OpenSSL 3's EVP interfaces, plus the RSA-OAEP password
 * exchange of caching_sha2's full authentication. */
#include "auth.h"

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

/* One-shot digest of up to two concatenated parts.  EVP_Digest cannot fail
 * for SHA-1/SHA-256 short of an allocation failure, where the output is
 * zeroed so that no check can succeed on garbage. */
static void digest2(const EVP_MD *md, const void *a, size_t alen, const void *b, size_t blen,
                    uint8_t *out)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned int n;

    if (!ctx || !EVP_DigestInit_ex(ctx, md, NULL) || !EVP_DigestUpdate(ctx, a, alen) ||
        (blen && !EVP_DigestUpdate(ctx, b, blen)) || !EVP_DigestFinal_ex(ctx, out, &n))
        memset(out, 0, (size_t)EVP_MD_get_size(md));
    EVP_MD_CTX_free(ctx);
}

static void sha1(const void *a, size_t alen, const void *b, size_t blen, uint8_t out[MX_SHA1_LEN])
{
    digest2(EVP_sha1(), a, alen, b, blen, out);
}

static void sha256(const void *a, size_t alen, const void *b, size_t blen,
                   uint8_t out[MX_SHA256_LEN])
{
    digest2(EVP_sha256(), a, alen, b, blen, out);
}

bool mx_auth_random_scramble(uint8_t *buf, size_t n)
{
    if (n > 0 && RAND_bytes(buf, (int)n) != 1)
        return false;
    /* As the server's generate_user_salt(): 7-bit bytes, and neither NUL
     * (the scramble travels NUL-terminated) nor '$' (a separator in stored
     * caching_sha2 hashes). */
    for (size_t i = 0; i < n; i++) {
        buf[i] &= 0x7f;
        if (buf[i] == '\0' || buf[i] == '$')
            buf[i]++;
    }
    return true;
}

/* ---- mysql_native_password --------------------------------------------- */

void mx_native_stage2(const char *password, size_t len, uint8_t stage2[MX_SHA1_LEN])
{
    uint8_t stage1[MX_SHA1_LEN];

    sha1(password, len, NULL, 0, stage1);
    sha1(stage1, sizeof(stage1), NULL, 0, stage2);
    OPENSSL_cleanse(stage1, sizeof(stage1));
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

bool mx_native_parse_hash(const char *hash, uint8_t stage2[MX_SHA1_LEN])
{
    if (!hash || hash[0] != '*' || strlen(hash) != 1 + 2 * MX_SHA1_LEN)
        return false;
    for (size_t i = 0; i < MX_SHA1_LEN; i++) {
        int hi = hexval(hash[1 + 2 * i]), lo = hexval(hash[2 + 2 * i]);
        if (hi < 0 || lo < 0)
            return false;
        stage2[i] = (uint8_t)(hi << 4 | lo);
    }
    return true;
}

void mx_native_scramble(const uint8_t *scramble, const char *password, size_t len,
                        uint8_t out[MX_SHA1_LEN], size_t *out_len)
{
    uint8_t stage1[MX_SHA1_LEN], stage2[MX_SHA1_LEN], mask[MX_SHA1_LEN];

    if (len == 0) {
        *out_len = 0;
        return;
    }
    sha1(password, len, NULL, 0, stage1);
    sha1(stage1, sizeof(stage1), NULL, 0, stage2);
    sha1(scramble, MX_SCRAMBLE_LEN, stage2, sizeof(stage2), mask);
    for (size_t i = 0; i < MX_SHA1_LEN; i++)
        out[i] = stage1[i] ^ mask[i];
    *out_len = MX_SHA1_LEN;
    OPENSSL_cleanse(stage1, sizeof(stage1));
}

bool mx_native_check(const uint8_t *scramble, const uint8_t *resp, size_t resp_len,
                     const uint8_t stage2[MX_SHA1_LEN], bool empty_password)
{
    uint8_t mask[MX_SHA1_LEN], candidate[MX_SHA1_LEN], check[MX_SHA1_LEN];

    if (empty_password)
        return resp_len == 0;
    if (resp_len != MX_SHA1_LEN)
        return false;
    /* The response is stage1 masked with SHA1(scramble + stage2): unmask it
     * and see whether it hashes to the stored stage2. */
    sha1(scramble, MX_SCRAMBLE_LEN, stage2, MX_SHA1_LEN, mask);
    for (size_t i = 0; i < MX_SHA1_LEN; i++)
        candidate[i] = resp[i] ^ mask[i];
    sha1(candidate, sizeof(candidate), NULL, 0, check);
    OPENSSL_cleanse(candidate, sizeof(candidate));
    return CRYPTO_memcmp(check, stage2, MX_SHA1_LEN) == 0;
}

/* ---- caching_sha2_password --------------------------------------------- */

void mx_sha2_scramble(const uint8_t *scramble, const char *password, size_t len,
                      uint8_t out[MX_SHA256_LEN])
{
    uint8_t h1[MX_SHA256_LEN], h2[MX_SHA256_LEN], mask[MX_SHA256_LEN];

    sha256(password, len, NULL, 0, h1);
    sha256(h1, sizeof(h1), NULL, 0, h2);
    sha256(h2, sizeof(h2), scramble, MX_SCRAMBLE_LEN, mask);
    for (size_t i = 0; i < MX_SHA256_LEN; i++)
        out[i] = h1[i] ^ mask[i];
    OPENSSL_cleanse(h1, sizeof(h1));
}

bool mx_sha2_check(const uint8_t *scramble, const uint8_t *resp, size_t resp_len,
                   const char *password, size_t len)
{
    uint8_t expect[MX_SHA256_LEN];

    /* Clients send nothing, or a lone NUL (libmysqlclient), for an empty
     * password; the server accepts both. */
    if (len == 0)
        return resp_len == 0 || (resp_len == 1 && resp[0] == '\0');
    if (resp_len != MX_SHA256_LEN)
        return false;
    mx_sha2_scramble(scramble, password, len, expect);
    bool ok = CRYPTO_memcmp(expect, resp, MX_SHA256_LEN) == 0;
    OPENSSL_cleanse(expect, sizeof(expect));
    return ok;
}

int mx_sha2_rsa_encrypt(const char *pem, size_t pem_len, const uint8_t *scramble,
                        size_t scramble_len, const char *password, size_t len,
                        uint8_t *out, size_t out_cap)
{
    BIO *bio = NULL;
    EVP_PKEY *key = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    uint8_t *plain = NULL;
    size_t out_len = out_cap;
    int rc = -1;

    if (scramble_len == 0 || pem_len > INT32_MAX)
        return -1;
    bio = BIO_new_mem_buf(pem, (int)pem_len);
    if (!bio)
        goto out;
    key = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
    if (!key)
        goto out;
    /* The server expects (password + NUL) XOR scramble, repeating the
     * scramble as needed. */
    plain = OPENSSL_malloc(len + 1);
    if (!plain)
        goto out;
    memcpy(plain, password, len);
    plain[len] = '\0';
    for (size_t i = 0; i <= len; i++)
        plain[i] ^= scramble[i % scramble_len];

    ctx = EVP_PKEY_CTX_new(key, NULL);
    if (!ctx || EVP_PKEY_encrypt_init(ctx) <= 0 ||
        EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) <= 0)
        goto out;
    if (EVP_PKEY_encrypt(ctx, NULL, &out_len, plain, len + 1) <= 0 || out_len > out_cap)
        goto out;
    if (EVP_PKEY_encrypt(ctx, out, &out_len, plain, len + 1) <= 0)
        goto out;
    rc = (int)out_len;

out:
    if (plain)
        OPENSSL_clear_free(plain, len + 1);
    EVP_PKEY_CTX_free(ctx);
    EVP_PKEY_free(key);
    BIO_free(bio);
    return rc;
}

int mx_sha2_rsa_decrypt(void *evp_pkey, const uint8_t *in, size_t in_len,
                        const uint8_t *scramble, size_t scramble_len,
                        char *out, size_t out_cap)
{
    EVP_PKEY_CTX *ctx = NULL;
    uint8_t *plain = NULL;
    size_t plain_cap = 0, plain_len = 0;
    int rc = -1;

    if (!evp_pkey || scramble_len == 0)
        return -1;
    ctx = EVP_PKEY_CTX_new((EVP_PKEY *)evp_pkey, NULL);
    if (!ctx || EVP_PKEY_decrypt_init(ctx) <= 0 ||
        EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) <= 0)
        goto out;
    if (EVP_PKEY_decrypt(ctx, NULL, &plain_cap, in, in_len) <= 0)
        goto out;
    plain = OPENSSL_malloc(plain_cap);
    if (!plain)
        goto out;
    plain_len = plain_cap;
    if (EVP_PKEY_decrypt(ctx, plain, &plain_len, in, in_len) <= 0)
        goto out;
    for (size_t i = 0; i < plain_len; i++)
        plain[i] ^= scramble[i % scramble_len];
    /* The client encrypted the password with its NUL; anything else was not
     * made with this scramble. */
    if (plain_len == 0 || plain[plain_len - 1] != '\0' ||
        memchr(plain, '\0', plain_len - 1) != NULL || plain_len > out_cap)
        goto out;
    memcpy(out, plain, plain_len);
    rc = (int)(plain_len - 1);

out:
    if (plain)
        OPENSSL_clear_free(plain, plain_cap);
    EVP_PKEY_CTX_free(ctx);
    return rc;
}

char *mx_rsa_public_pem(void *evp_pkey, size_t *len)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *out = NULL, *p;
    if (b && PEM_write_bio_PUBKEY(b, evp_pkey) == 1) {
        long n = BIO_get_mem_data(b, &p);
        if (n > 0 && (out = malloc((size_t)n + 1))) {
            memcpy(out, p, (size_t)n);
            out[n] = 0;
            *len = (size_t)n;
        }
    }
    BIO_free(b);
    return out;
}
