/* Statement fingerprints for the console's show @@digest: a statement's
 * text normalised so that executions differing only in their values fold
 * into one line.  Built on router/lex.h's tokens, so a fingerprint splits
 * the text where the server and the classifier do.  Pure: no I/O, no
 * allocation. */
#ifndef MX_ROUTER_DIGEST_H
#define MX_ROUTER_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#include "router/lex.h"

/* Bytes of a fingerprint manx keeps, NUL included: two statements whose
 * fingerprints agree this far share a digest. */
#define MX_DIGEST_TEXT_MAX 512

/* Writes the fingerprint of the n bytes at q, read under mode, into out
 * (cap >= 8 bytes, always NUL-terminated) and returns its 64-bit hash
 * (FNV-1a of the bytes written).  The rules:
 *   - numbers and strings become ?, and so do a sign right before a number
 *     where it cannot be a binary minus (after an operator, '(' or ','),
 *     and placeholders stay ?;
 *   - a list of only such values after IN becomes (?), and the rows of a
 *     VALUES clause after the first one are dropped when they hold only
 *     values: "in (1,2,3)" and "in (4)" give "in (?)";
 *   - comments are dropped (a leading routing hint too: it routes, it does
 *     not change what runs); whitespace becomes one space between tokens,
 *     none inside "a.b", "f(" and before ',' or ')';
 *   - words, quoted identifiers (unquoted) and variables are lower-cased;
 *   - a trailing ';' is dropped; statements of a multi-statement text are
 *     joined by "; ".
 * A fingerprint that does not fit ends in "...".  Bytes below 0x20 and
 * 0x7f (stray punctuation, a NUL inside a quoted name) are written as '.'. */
uint64_t mx_digest(const uint8_t *q, size_t n, const mx_lexmode_t *mode, char *out, size_t cap);

#endif
