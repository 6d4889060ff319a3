/* The routing decision: where one client command goes - the writer, a
 * reader, the backend the session already holds - or whether manx answers
 * it itself or refuses it.  mx_route_decide() is a pure function of the
 * statement's scan, the session's flags, the user and the dataHost: no I/O,
 * no globals, no allocation, so every rule is tested from a table
 * (tests/unit/router/policy.eval).  Which host is "the writer" or "a
 * reader" stays with the host choice (router/route.h): the decision asks
 * for it (MX_DECIDE_PICK) only when it needs it, because the host choice
 * moves a round-robin cursor; mx_route_resolve() asks and decides again. */
#ifndef MX_ROUTER_POLICY_H
#define MX_ROUTER_POLICY_H

#include <stdbool.h>
#include <stdint.h>

#include "conf/conf.h"
#include "router/classify.h"
#include "router/health.h"
#include "router/route.h"

/* mx_route_in_t.writer / .reader before the host choice was asked. */
#define MX_ROUTE_UNASKED (-2)

/* What ties a session to the backend it holds. */
typedef struct mx_route_pins_s {
    uint16_t status;             /* server status the client last saw (MX_STATUS_IN_TRANS, _AUTOCOMMIT) */
    bool sticky;                 /* state only that backend holds: user variables, temporary
                                  * tables, locks, HANDLER, PREPARE, an unreplayable SET */
    bool long_data_pin;          /* COM_STMT_SEND_LONG_DATA sent: its EXECUTE must follow */
    bool cursor_open;            /* an EXECUTE opened a cursor not yet fetched to its end */
    bool trx_chars;              /* SET TRANSACTION pending for the next transaction */
    bool pin_next;               /* weak pin: the previous statement used SQL_CALC_FOUND_ROWS
                                  * or left warnings (FOUND_ROWS() / SHOW WARNINGS next) */
} mx_route_pins_t;

typedef struct mx_route_in_s {
    /* The command. */
    uint8_t cmd;                 /* MX_COM_* byte */
    const mx_sql_info_t *sql;    /* scan of the text (COM_QUERY, COM_STMT_PREPARE) or of the
                                  * prepared text (COM_STMT_*: only cls is used); NULL when
                                  * the command was not classified (it then writes); not
                                  * read by mx_route_refuse_command() */
    bool db_refused;             /* strict_schemas: the scan named a database not the user's */
    const char *db_denied;       /* ... that database ("" when unnamed), for the error */

    /* The session. */
    bool has_schema;             /* a logical schema (chosen, or the user's first) gives the dataHost */
    bool has_backend;            /* a backend connection is linked to the session now */
    int backend_host;            /* its host (config index), -1 when it serves another account */
    mx_route_pins_t pins;        /* what holds that backend */
    bool force_writer;           /* a replica did not reach the session's GTID: read from the writer */
    bool has_gtid;               /* consistency = session: the session has written (last_gtid) */
    int gtid_ok_host;            /* host seen to hold the session's last GTID, -1 none */

    /* The user. */
    const char *user_name;       /* for error messages */
    bool readonly;               /* readonly = true */
    bool strict_schemas;         /* strict_schemas = true */

    /* The dataHost of the schema (ignored without one). */
    int balance;                 /* 0..3 */
    bool consistency_session;    /* consistency = session */

    /* The host choice's answers, MX_ROUTE_UNASKED until asked (see MX_DECIDE_PICK). */
    int writer;                  /* host writes go to now (config index) */
    int reader;                  /* host a read would go to, -1 when no reader is usable */
} mx_route_in_t;

typedef enum {
    MX_DECIDE_WRITER = 0,        /* run on `host`, the writer */
    MX_DECIDE_READER,            /* run on `host`, a reader chosen by balance */
    MX_DECIDE_KEEP,              /* run on the backend the session holds */
    MX_DECIDE_REFUSE,            /* answer with error code / sqlstate / msg, send nothing */
    MX_DECIDE_ANSWER,            /* manx answers the statement itself (sql->local) */
    MX_DECIDE_KILL,              /* manx runs the KILL itself (sql->kill_id) */
    MX_DECIDE_PICK               /* ask the host choice: fill in->writer, and in->reader when
                                  * need_reader, then decide again */
} mx_decide_kind_t;

/* Log levels of mx_decision_t.log_level, numbered as the proxy's. */
enum { MX_DECIDE_LOG_NONE = -1, MX_DECIDE_LOG_WARNING = 1, MX_DECIDE_LOG_INFO = 2, MX_DECIDE_LOG_DEBUG = 3 };

typedef struct mx_decision_s {
    uint8_t kind;                /* mx_decide_kind_t */
    int host;                    /* WRITER, READER: config index of the host */
    bool read;                   /* counts as a read (READER, or KEEP of a weak pin on a reader) */
    bool gtid_wait;              /* the host must reach the session's last GTID first */
    bool release;                /* the session's backend goes back to the pool first (a weak
                                  * pin yields; decide again without it) */
    bool need_reader;            /* PICK: in->reader is needed too */
    bool picked;                 /* the host choice was asked (a forced writer read is used up) */
    uint16_t code;               /* REFUSE: error code */
    char sqlstate[6];            /* REFUSE: SQLSTATE */
    char msg[512];               /* REFUSE: message */
    int log_level;               /* MX_DECIDE_LOG_*: REFUSE worth a log line */
    char log[160];               /* ... and its text */
} mx_decision_t;

/* The refusals of the command itself, whatever it carries (strict_schemas
 * and COM_CREATE_DB/COM_DROP_DB, readonly users and the commands that are
 * not queries, prepares or executes): the caller checks them before it
 * reads anything of the command.  Returns true with *d the refusal. */
bool mx_route_refuse_command(const mx_route_in_t *in, mx_decision_t *d);

/* The decision for `in`, in this order: who answers (manx itself, or a
 * refusal of the command or the statement); whether the session keeps its
 * backend; "No database selected" without a schema; otherwise the writer
 * or, for a read outside a transaction with balance != 0, a reader -
 * returning MX_DECIDE_PICK while in->writer (or in->reader) is unasked. */
mx_decision_t mx_route_decide(const mx_route_in_t *in);

/* Whether the session keeps its backend after a statement (else it goes
 * back to the pool).  autocommit = 0 alone does not pin: the server sets
 * IN_TRANS as soon as a statement opens the implicit transaction, and the
 * autocommit variable itself is replayed like any other. */
bool mx_route_keeps_backend(const mx_route_pins_t *p);

/* mx_route_decide() with the host choice asked as needed: the writer is
 * the dataHost's active writeHost (write_type = 1: any writeHost that is
 * up, see mx_route_write_host()), the reader mx_route_read_host()'s.  Not
 * pure (the host choice reads health and moves *rr); never returns
 * MX_DECIDE_PICK.  A decision with `release` asks the caller to let the
 * backend go and call again with in->has_backend false. */
mx_decision_t mx_route_resolve(mx_route_in_t *in, const mx_datahost_t *dh, size_t di, mx_health_t *h,
                               mx_route_load_fn load, void *arg, unsigned *rr);

/* "WRITER", "READER", "KEEP", "REFUSE", "ANSWER", "KILL", "PICK", or "?". */
const char *mx_decide_kind_name(int kind);

#endif
