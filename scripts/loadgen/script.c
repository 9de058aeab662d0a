/* script.c: the load generator's session scripts (the steps of each kind of session) and the
 * state machine that runs one connection through its script, checking every reply. */
#include "loadgen.h"

#include <errno.h>
#include <openssl/err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

struct step script[40];
int nsteps;
const char *op_names[] = {"connect", "tls", "greeting", "greeting", "send", "reply", "reply",
                                 "continuation", "hold", "loop", "close", "done"};

static void add(enum op op, const char *text, int flags, int arg) {
    if (nsteps >= (int)(sizeof script / sizeof script[0])) die("script too long");
    script[nsteps++] = (struct step){op, text, flags, arg};
}

void build_script(void) {
    int pop = !strcmp(kind, "pop3s");
    int tls_first = !strcmp(kind, "imaps") || pop || !strcmp(kind, "handshake");
    int starttls = !strcmp(kind, "starttls");
    if (!tls_first && !starttls && strcmp(kind, "imap")) die("unknown kind %s", kind);
    add(OP_TCP, NULL, 0, 0);
    if (tls_first) add(OP_TLS, NULL, 0, 0);
    add(pop ? OP_GREET_POP : OP_GREET_IMAP, NULL, 0, 0);
    if (starttls) {
        add(OP_SEND, "a STARTTLS\r\n", 0, 0);
        add(OP_TAG, "a", 0, 0);
        add(OP_TLS, NULL, 0, 0);
    }
    if (!strcmp(kind, "handshake")) {
        if (strcmp(mode, "sessions")) die("kind handshake is for mode sessions");
        add(OP_SEND, "d LOGOUT\r\n", 0, 0);
        add(OP_TAG, "d", 0, 0);
        add(OP_EOF, NULL, 0, 0);
        add(OP_DONE, NULL, 0, 0);
        return;
    }
    if (pop) {
        if (strcmp(mode, "sessions")) die("kind pop3s is for mode sessions");
        add(OP_SEND, "USER %U\r\n", 0, 0);
        add(OP_POPOK, NULL, 0, 0);
        add(OP_SEND, "PASS %P\r\n", 0, 0);
        add(OP_POPOK, NULL, 0, 0);
        add(OP_SEND, "STAT\r\n", 0, 0);
        add(OP_POPOK, NULL, 0, 0);
        add(OP_SEND, "QUIT\r\n", 0, 0);
        add(OP_POPOK, NULL, 0, 0);
        add(OP_EOF, NULL, 0, 0);
        add(OP_DONE, NULL, 0, 0);
        return;
    }
    add(OP_SEND, "b LOGIN %U %P\r\n", 0, 0);
    add(OP_TAG, "b", 0, 0);
    add(OP_SEND, "c SELECT INBOX\r\n", 0, 0);
    add(OP_TAG, "c", 0, 0);
    if (!strcmp(mode, "idle")) {
        add(OP_SEND, "e IDLE\r\n", 0, 0);
        add(OP_CONT, "e", 0, 0);
        add(OP_HOLD, NULL, 0, 0);
        add(OP_SEND, "DONE\r\n", 0, 0);
        add(OP_TAG, "e", 0, 0);
    } else if (!strcmp(mode, "bulk")) {
        static char line[256];
        snprintf(line, sizeof line, "f %s\r\n", fetch_cmd);
        int top = nsteps;
        add(OP_SEND, line, F_TIMED_START, 0);
        add(OP_TAG, "f", F_LITERAL, 0);
        add(OP_LOOP, NULL, 0, top);
    } else if (!strcmp(mode, "noop")) {
        int top = nsteps;
        add(OP_SEND, "n NOOP\r\n", F_TIMED_START, 0);
        add(OP_TAG, "n", F_TIMED_END, 0);
        add(OP_LOOP, NULL, 0, top);
    } else if (strcmp(mode, "sessions")) {
        die("unknown mode %s", mode);
    }
    add(OP_SEND, "d LOGOUT\r\n", 0, 0);
    add(OP_TAG, "d", 0, 0);
    add(OP_EOF, NULL, 0, 0);
    add(OP_DONE, NULL, 0, 0);
}

/* ----- I/O ----------------------------------------------------------------------------------- */
enum { IO_WAIT = -2, IO_ERR = -1, IO_EOF = 0 };

static int io_result(struct conn *c, int r) {
    if (r > 0) return r;
    int e = SSL_get_error(c->ssl, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return IO_WAIT;
    if (e == SSL_ERROR_ZERO_RETURN) return IO_EOF;
    return IO_ERR;
}

static int cread(struct conn *c, char *buf, size_t n) {
    if (c->ssl) return io_result(c, SSL_read(c->ssl, buf, (int)n));
    ssize_t r = read(c->fd, buf, n);
    if (r > 0) return (int)r;
    if (r == 0) return IO_EOF;
    return errno == EAGAIN ? IO_WAIT : IO_ERR;
}

static int cwrite(struct conn *c, const char *buf, size_t n) {
    if (c->ssl) return io_result(c, SSL_write(c->ssl, buf, (int)n));
    ssize_t r = send(c->fd, buf, n, MSG_NOSIGNAL);
    if (r >= 0) return (int)r;
    return errno == EAGAIN ? IO_WAIT : IO_ERR;
}

/* Consumes literal bytes (checking them against the message when asked), then finds a line.
 * Returns 1 with *line (including CRLF) when one is there, IO_WAIT, IO_EOF or IO_ERR. */
static int take_line(struct conn *c, char **line, size_t *len) {
    for (int rounds = 0; rounds < 1000000; rounds++) {
        if (c->lit_left > 0 && c->rpos < c->rlen) {
            size_t n = c->rlen - c->rpos;
            if (n > c->lit_left) n = c->lit_left;
            if (c->lit_check && memcmp(c->rbuf + c->rpos, msg + c->lit_off, n)) c->lit_check = -1;
            c->rpos += n;
            c->lit_off += n;
            c->lit_left -= n;
            if (c->lit_left == 0 && c->lit_check == 1) c->lit_verified = 1;
        }
        if (c->lit_left == 0 && c->rpos < c->rlen) {
            char *start = c->rbuf + c->rpos;
            char *nl = memchr(start, '\n', c->rlen - c->rpos);
            if (nl) {
                *line = start;
                *len = (size_t)(nl - start) + 1;
                c->rpos += *len;
                /* A literal announced at the end of the line: "{N}\r\n". */
                if (*len >= 4 && nl[-1] == '\r' && nl[-2] == '}') {
                    char *open = memrchr(start, '{', *len);
                    if (open) {
                        char *end;
                        unsigned long long n = strtoull(open + 1, &end, 10);
                        if (end == nl - 2) {
                            c->lit_left = n;
                            c->lit_off = 0;
                            c->lit_check = (script[c->step].flags & F_LITERAL) ? (n == msg_len ? 1 : -1) : 0;
                        }
                    }
                }
                return 1;
            }
        }
        if (c->rpos == c->rlen) {
            c->rpos = c->rlen = 0;
        } else if (c->lit_left == 0 && c->rpos > 0) {
            memmove(c->rbuf, c->rbuf + c->rpos, c->rlen - c->rpos);
            c->rlen -= c->rpos;
            c->rpos = 0;
        }
        if (c->rlen == rbuf_size) return IO_ERR; /* a line longer than the buffer */
        int r = cread(c, c->rbuf + c->rlen, rbuf_size - c->rlen);
        if (r <= 0) return r;
        c->rlen += (size_t)r;
    }
    return IO_ERR;
}

static void expand(struct conn *c, const char *text) {
    size_t j = 0;
    for (const char *p = text; *p && j + 200 < sizeof c->obuf; p++) {
        if (p[0] == '%' && (p[1] == 'U' || p[1] == 'P')) {
            const char *v = p[1] == 'U' ? users[c->user] : passwords[c->user];
            size_t n = strlen(v);
            if (j + n + 200 >= sizeof c->obuf) die("user name or password too long");
            memcpy(c->obuf + j, v, n);
            j += n;
            p++;
        } else {
            c->obuf[j++] = *p;
        }
    }
    c->olen = j;
    c->opos = 0;
}

static void advance(struct conn *c) {
    c->step++;
    c->deadline = now() + step_timeout;
}

static int tagged(const char *line, size_t len, const char *tag) {
    size_t t = strlen(tag);
    return len > t && !memcmp(line, tag, t) && line[t] == ' ';
}

/* How much of a reply line goes into a failure reason. */
static int shown(size_t len) {
    return (int)(len < 60 ? len : 60);
}

static int begins(const char *line, size_t len, const char *prefix) {
    size_t n = strlen(prefix);
    return len >= n && !memcmp(line, prefix, n);
}

void drive(struct conn *c, unsigned events) {
    for (int rounds = 0; rounds < 100000 && !c->dead; rounds++) {
        struct step *s = &script[c->step];
        char *line;
        size_t len;
        int r;
        switch (s->op) {
        case OP_TCP: {
            if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) return;
            int err = 0;
            socklen_t l = sizeof err;
            if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &l) < 0 || err) {
                fail(c, "connect: %s", strerror(err ? err : errno));
                return;
            }
            advance(c);
            break;
        }
        case OP_TLS:
            if (!c->ssl) {
                c->ssl = SSL_new(ctx);
                if (!c->ssl || !SSL_set_fd(c->ssl, c->fd)) die("SSL_new failed");
                SSL_set_connect_state(c->ssl);
                if (c->rpos != c->rlen) { fail(c, "data after the STARTTLS reply"); return; }
            }
            r = SSL_do_handshake(c->ssl);
            if (r == 1) { advance(c); break; }
            if (io_result(c, r) == IO_WAIT) return;
            {
                unsigned long e = ERR_get_error();
                char buf[120];
                ERR_error_string_n(e, buf, sizeof buf);
                ERR_clear_error();
                fail(c, "TLS handshake: %s", e ? buf : "closed");
            }
            return;
        case OP_SEND:
            if (c->olen == 0) {
                expand(c, s->text);
                if (s->flags & F_TIMED_START) {
                    c->t0 = now();
                    if (xfer_start < 0) xfer_start = c->t0;
                }
            }
            r = cwrite(c, c->obuf + c->opos, c->olen - c->opos);
            if (r > 0) {
                c->opos += (size_t)r;
                if (c->opos == c->olen) { c->olen = c->opos = 0; advance(c); }
                break;
            }
            if (r == IO_WAIT) return;
            fail(c, "write failed at %s", s->text);
            return;
        case OP_HOLD:
            if (!released) {
                if (!c->held) { c->held = 1; held_count++; }
                return;
            }
            c->held = 0;
            held_count--;
            advance(c);
            break;
        case OP_LOOP:
            if (--c->loops_left > 0) {
                c->step = s->arg;
                c->deadline = now() + step_timeout;
            } else {
                advance(c);
            }
            break;
        case OP_DONE:
            ok_count++;
            finish(c);
            return;
        default: /* the steps that read a line */
            r = take_line(c, &line, &len);
            if (r == IO_WAIT) return;
            if (r <= 0) {
                if (s->op == OP_EOF) { advance(c); break; }
                fail(c, "%s at the %s step (%s)", r == IO_EOF ? "closed" : "read error",
                     op_names[s->op], s->text ? s->text : "");
                return;
            }
            switch (s->op) {
            case OP_GREET_IMAP:
                if (!begins(line, len, "* OK")) { fail(c, "greeting %.*s", shown(len), line); return; }
                advance(c);
                break;
            case OP_GREET_POP:
            case OP_POPOK:
                if (!begins(line, len, "+OK")) { fail(c, "POP3 reply %.*s", shown(len), line); return; }
                advance(c);
                break;
            case OP_CONT:
                if (begins(line, len, "+ ")) { advance(c); break; }
                if (tagged(line, len, s->text)) { fail(c, "IDLE refused: %.*s", shown(len), line); return; }
                break;
            case OP_TAG:
                if (!tagged(line, len, s->text)) break; /* untagged data */
                if (!begins(line + strlen(s->text) + 1, len - strlen(s->text) - 1, "OK")) {
                    fail(c, "reply %.*s", shown(len), line);
                    return;
                }
                if (s->flags & F_LITERAL) {
                    if (!c->lit_verified) { fail(c, "fetched literal differs from the message"); return; }
                    c->lit_verified = 0;
                    xfer_bytes += msg_len;
                    xfer_end = now();
                }
                if ((s->flags & F_TIMED_END) && nlat < loops) lat[nlat++] = now() - c->t0;
                advance(c);
                break;
            default: /* OP_EOF: lines after the last reply are ignored */
                break;
            }
        }
    }
}

