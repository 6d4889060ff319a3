/* Authentication scrambles and checks for mysql_native_password and
 * caching_sha2_password, both sides (manx as server to its clients and as
 * client to its backends).  Pure functions over OpenSSL's digests and RSA. */
#ifndef MX_PROTOCOL_AUTH_H
#define MX_PROTOCOL_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "proto.h"

#define MX_SHA1_LEN   20
#define MX_SHA256_LEN 32

/* Fill buf with n random scramble bytes (printable, never NUL or '$'). */
bool mx_auth_random_scramble(uint8_t *buf, size_t n) __attribute__((warn_unused_result));

/* mysql_native_password */
/* stage2 = SHA1(SHA1(password)): what the server stores ("*HEX"). */
void mx_native_stage2(const char *password, size_t len, uint8_t stage2[MX_SHA1_LEN]);
/* Parse "*" + 40 hex digits into stage2; false if it is not such a string. */
bool mx_native_parse_hash(const char *hash, uint8_t stage2[MX_SHA1_LEN]);
/* Client response: SHA1(password) XOR SHA1(scramble + stage2).
 * An empty password gives an empty response (out_len = 0). */
void mx_native_scramble(const uint8_t *scramble, const char *password, size_t len,
                        uint8_t out[MX_SHA1_LEN], size_t *out_len);
/* Server check of a client response against the stored stage2. */
bool mx_native_check(const uint8_t *scramble, const uint8_t *resp, size_t resp_len,
                     const uint8_t stage2[MX_SHA1_LEN], bool empty_password);

/* caching_sha2_password */
/* Client response: SHA256(pw) XOR SHA256(SHA256(SHA256(pw)) + scramble). */
void mx_sha2_scramble(const uint8_t *scramble, const char *password, size_t len,
                      uint8_t out[MX_SHA256_LEN]);
/* Server fast-path check, knowing the clear password. */
bool mx_sha2_check(const uint8_t *scramble, const uint8_t *resp, size_t resp_len,
                   const char *password, size_t len);
/* RSA-OAEP encryption of (password + NUL) XOR scramble with a PEM public
 * key, as the client does for full authentication without TLS.
 * Returns bytes written to out (RSA size), or -1. */
int mx_sha2_rsa_encrypt(const char *pem, size_t pem_len, const uint8_t *scramble,
                        size_t scramble_len, const char *password, size_t len,
                        uint8_t *out, size_t out_cap);
/* Server side: decrypt with the private key (an EVP_PKEY*) and unmask;
 * writes the NUL-terminated password to out.  Returns its length or -1. */
/* The public half of evp_pkey (an EVP_PKEY *) as PEM, NUL-terminated, on
 * the heap (the client asks for it in caching_sha2 exchanges).  NULL on
 * failure. */
char *mx_rsa_public_pem(void *evp_pkey, size_t *len);

int mx_sha2_rsa_decrypt(void *evp_pkey, const uint8_t *in, size_t in_len,
                        const uint8_t *scramble, size_t scramble_len,
                        char *out, size_t out_cap);

#endif
