/* loadgen.h: what the load generator's two files share (see loadgen.c for what it does). */
#ifndef LOADGEN_H
#define LOADGEN_H
#define _GNU_SOURCE
#include <openssl/ssl.h>
#include <stddef.h>

enum op { OP_TCP, OP_TLS, OP_GREET_IMAP, OP_GREET_POP, OP_SEND, OP_TAG, OP_POPOK, OP_CONT, OP_HOLD,
          OP_LOOP, OP_EOF, OP_DONE };
enum { F_TIMED_START = 1, F_TIMED_END = 2, F_LITERAL = 4 };

struct step {
    enum op op;
    const char *text; /* OP_SEND: the line, %U and %P replaced; OP_TAG: the tag */
    int flags;
    int arg; /* OP_LOOP: step to jump back to */
};

struct conn {
    int fd;
    SSL *ssl;
    int step;
    int loops_left;
    int user;
    int held;
    int dead;
    char *rbuf;
    size_t rpos, rlen;
    char obuf[1024];
    size_t opos, olen;
    size_t lit_left, lit_off;
    int lit_check, lit_verified;
    double deadline, t0;
    struct conn *next_dead;
};

/* ----- settings (loadgen.c) ---------------------------------------------------------------- */
extern const char *mode, *kind, *fetch_cmd;
extern int loops;
extern double step_timeout;
extern char **users, **passwords;
extern const unsigned char *msg;
extern size_t msg_len, rbuf_size;

/* ----- state shared with the script (loadgen.c) -------------------------------------------- */
extern SSL_CTX *ctx;
extern int ok_count, held_count, released;
extern double *lat;
extern int nlat;
extern double xfer_start, xfer_end;
extern unsigned long long xfer_bytes;

double now(void);
void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void finish(struct conn *c);
void fail(struct conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ----- the session script (script.c) ------------------------------------------------------- */
extern struct step script[40];
extern int nsteps;
extern const char *op_names[];
void build_script(void);
/* Runs the connection's script until it must wait for the socket (or is finished). */
void drive(struct conn *c, unsigned events);

#endif
