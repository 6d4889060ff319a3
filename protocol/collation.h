/* Collation ids of the MySQL protocol (the handshake's character set byte,
 * column definitions) and the names a MariaDB 10.11 server gives them. */
#ifndef MX_PROTOCOL_COLLATION_H
#define MX_PROTOCOL_COLLATION_H

#include <stdbool.h>
#include <stdint.h>

/* The character set and collation of id; false for an id MariaDB 10.11
 * does not know. */
bool mx_collation_names(unsigned id, const char **charset, const char **collation);

#endif
