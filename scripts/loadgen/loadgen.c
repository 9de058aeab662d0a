/*
 * loadgen: the load generator of `scripts/bench --peers` (IMAP and POP3, plaintext, STARTTLS
 * and implicit TLS), one thread, non-blocking sockets, epoll (edge-triggered, each socket
 * registered once), OpenSSL 3. Every reply is checked; a session with an unexpected reply, a
 * failed handshake, an early close or a step timeout counts as failed and is not timed.
 *
 * Build: cc -O2 -o loadgen loadgen.c script.c -lssl -lcrypto
 *
 * Modes (-m):
 *   sessions  -n N sessions, -c at a time: connect, [TLS], greeting, LOGIN, SELECT, LOGOUT
 *             (POP3: USER, PASS, STAT, QUIT; kind "handshake": TLS, greeting, LOGOUT only)
 *   idle      -n N sessions logged in and in IDLE (-c opening at a time); prints
 *             "ready held=H failed=F" when all are up, holds them until stdin is readable
 *             (a line or EOF), then DONE and LOGOUT on each
 *   bulk      -n connections at once, each runs -l times the fetch command (-F) and checks the
 *             literal against the file given with -M, byte for byte
 *   noop      one connection, -l NOOP round trips one after another (the first -w not kept)
 * Kinds (-k): imap (plaintext), starttls, imaps, pop3s, handshake (implicit-TLS IMAP).
 * The last line on stdout is key=value pairs: ok, failed, elapsed (s), and per mode rate
 * (sessions/s), bytes and xfer_s (bulk), p50_us, p99_us, mean_us (noop). Up to 8 distinct
 * failure reasons go to stderr with their counts.
 */
#include "loadgen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ----- settings ------------------------------------------------------------------------------ */
const char *mode = "sessions", *kind = "imap", *fetch_cmd = "FETCH 1 BODY.PEEK[]";
static const char *host = "127.0.0.1";
int loops = 1;
static int port, total = 1, conc = 1, warm = 0, nsrc = 1;
double step_timeout = 30;
static double total_timeout = 600;
char **users, **passwords;
static int nusers;
const unsigned char *msg;
size_t msg_len, rbuf_size = 16384;

/* ----- state --------------------------------------------------------------------------------- */
SSL_CTX *ctx;
static int ep;
static struct conn **live;
int ok_count, held_count, released;
static int nlive, started, failed_count, ready_said;
static struct conn *dead_list;
double *lat;
int nlat;
double xfer_start = -1, xfer_end;
unsigned long long xfer_bytes;
static double t_begin;

struct reason { char text[160]; int count; };
static struct reason reasons[8];
static int nreasons, reasons_dropped;

double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

void die(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "loadgen: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    exit(2);
}

/* ----- failures ------------------------------------------------------------------------------ */
static void note_reason(const char *text) {
    for (int i = 0; i < nreasons; i++)
        if (!strcmp(reasons[i].text, text)) {
            reasons[i].count++;
            return;
        }
    if (nreasons < 8) {
        snprintf(reasons[nreasons].text, sizeof reasons[0].text, "%s", text);
        reasons[nreasons++].count = 1;
    } else {
        reasons_dropped++;
    }
}

void finish(struct conn *c) {
    if (c->dead) return;
    c->dead = 1;
    if (c->held) held_count--;
    if (c->ssl) SSL_free(c->ssl);
    c->ssl = NULL;
    close(c->fd);
    c->next_dead = dead_list;
    dead_list = c;
}

void fail(struct conn *c, const char *fmt, ...) {
    char text[160], clean[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    size_t j = 0;
    for (size_t i = 0; text[i] && j + 1 < sizeof clean; i++)
        clean[j++] = (text[i] == '\r' || text[i] == '\n') ? ' ' : text[i];
    clean[j] = 0;
    failed_count++;
    note_reason(clean);
    finish(c);
}

/* ----- connections --------------------------------------------------------------------------- */
static void start_conn(void) {
    struct conn *c = calloc(1, sizeof *c);
    if (!c) die("out of memory");
    c->rbuf = malloc(rbuf_size);
    if (!c->rbuf) die("out of memory");
    c->user = started % nusers;
    c->loops_left = loops;
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) die("socket: %s", strerror(errno));
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (nsrc > 1) {
        struct sockaddr_in src = {.sin_family = AF_INET};
        src.sin_addr.s_addr = htonl(0x7f000001u + (unsigned)(started % nsrc));
        setsockopt(c->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
        if (bind(c->fd, (struct sockaddr *)&src, sizeof src) < 0) die("bind: %s", strerror(errno));
    }
    struct sockaddr_in dst = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
    if (inet_pton(AF_INET, host, &dst.sin_addr) != 1) die("bad host %s", host);
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLET | EPOLLRDHUP, .data.ptr = c};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) < 0) die("epoll_ctl: %s", strerror(errno));
    c->deadline = now() + step_timeout;
    live[nlive++] = c;
    started++;
    int r = connect(c->fd, (struct sockaddr *)&dst, sizeof dst);
    if (r < 0 && errno != EINPROGRESS) {
        fail(c, "connect: %s", strerror(errno));
        return;
    }
    if (r == 0) drive(c, EPOLLOUT);
}

static void reap(void) {
    while (dead_list) {
        struct conn *c = dead_list;
        dead_list = c->next_dead;
        for (int i = 0; i < nlive; i++)
            if (live[i] == c) { live[i] = live[--nlive]; break; }
        free(c->rbuf);
        free(c);
    }
}

static void load_users(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) die("%s: %s", path, strerror(errno));
    char line[512];
    while (fgets(line, sizeof line, f) && nusers < 100000) {
        char *u = strtok(line, " \t\r\n"), *p = strtok(NULL, " \t\r\n");
        if (!u || !p) continue;
        users = realloc(users, sizeof *users * (nusers + 1));
        passwords = realloc(passwords, sizeof *passwords * (nusers + 1));
        users[nusers] = strdup(u);
        passwords[nusers++] = strdup(p);
    }
    fclose(f);
    if (!nusers) die("no users in %s", path);
}

static void load_message(const char *path) {
    int fd = open(path, O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) die("%s: %s", path, strerror(errno));
    msg_len = (size_t)st.st_size;
    msg = mmap(NULL, msg_len ? msg_len : 1, PROT_READ, MAP_PRIVATE, fd, 0);
    if (msg == MAP_FAILED) die("mmap %s: %s", path, strerror(errno));
    close(fd);
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    const char *users_file = NULL, *ca = NULL, *msg_file = NULL, *tlsver = "1.3";
    int opt;
    while ((opt = getopt(argc, argv, "m:k:H:p:n:c:l:w:U:A:M:F:S:t:T:V:")) != -1) {
        switch (opt) {
        case 'm': mode = optarg; break;
        case 'k': kind = optarg; break;
        case 'H': host = optarg; break;
        case 'p': port = atoi(optarg); break;
        case 'n': total = atoi(optarg); break;
        case 'c': conc = atoi(optarg); break;
        case 'l': loops = atoi(optarg); break;
        case 'w': warm = atoi(optarg); break;
        case 'U': users_file = optarg; break;
        case 'A': ca = optarg; break;
        case 'M': msg_file = optarg; break;
        case 'F': fetch_cmd = optarg; break;
        case 'S': nsrc = atoi(optarg); break;
        case 't': step_timeout = atof(optarg); break;
        case 'T': total_timeout = atof(optarg); break;
        case 'V': tlsver = optarg; break;
        default: die("usage: see the comment at the top of loadgen.c");
        }
    }
    if (port <= 0 || !users_file || total < 1 || conc < 1 || loops < 1 || nsrc < 1 || nsrc > 250)
        die("need -p PORT -U USERS, and positive -n -c -l (-S 1..250)");
    load_users(users_file);
    if (!strcmp(mode, "bulk")) {
        if (!msg_file) die("bulk needs -M MESSAGE");
        load_message(msg_file);
        rbuf_size = 262144;
        conc = total;
    }
    if (!strcmp(mode, "noop")) {
        loops += warm;
        total = conc = 1;
        lat = calloc((size_t)loops, sizeof *lat);
    }
    if (!strcmp(mode, "sessions") || !strcmp(mode, "idle")) loops = 1;
    build_script();

    ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) die("SSL_CTX_new");
    int v = !strcmp(tlsver, "1.2") ? TLS1_2_VERSION : TLS1_3_VERSION;
    SSL_CTX_set_min_proto_version(ctx, v);
    SSL_CTX_set_max_proto_version(ctx, v);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF); /* every handshake is a full one */
    SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
    if (!strcmp(mode, "idle")) SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    if (ca) {
        if (SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1) die("cannot load CA %s", ca);
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    }

    ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) die("epoll_create1: %s", strerror(errno));
    live = calloc((size_t)total + 1, sizeof *live);
    int idle_mode = !strcmp(mode, "idle");
    struct epoll_event evs[512];
    t_begin = now();
    double deadline = t_begin + total_timeout, last_sweep = t_begin, t_end = t_begin;
    int stdin_added = 0;
    for (long iter = 0; iter < 100000000L; iter++) {
        double t = now();
        if (t > deadline) break;
        reap();
        int opening = idle_mode ? nlive - held_count : nlive;
        while (started < total && opening < conc) {
            start_conn();
            opening++;
        }
        reap();
        if (started == total && nlive == 0) break;
        if (idle_mode && !ready_said && started == total && held_count == nlive) {
            printf("ready held=%d failed=%d\n", held_count, failed_count);
            fflush(stdout);
            ready_said = 1;
            struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
            if (epoll_ctl(ep, EPOLL_CTL_ADD, 0, &ev) == 0) stdin_added = 1;
            else released = 1; /* stdin is not pollable (a file): go on at once */
            if (released)
                for (int i = 0; i < nlive; i++) drive(live[i], 0);
        }
        int n = epoll_wait(ep, evs, 512, 50);
        for (int i = 0; i < n; i++) {
            struct conn *c = evs[i].data.ptr;
            if (!c) {
                if (!released) {
                    released = 1;
                    if (stdin_added) epoll_ctl(ep, EPOLL_CTL_DEL, 0, NULL);
                    for (int j = 0; j < nlive; j++) drive(live[j], 0);
                }
                continue;
            }
            if (!c->dead) drive(c, evs[i].events);
        }
        t = now();
        t_end = t;
        if (t - last_sweep > 0.1) {
            last_sweep = t;
            for (int i = 0; i < nlive; i++) {
                struct conn *c = live[i];
                if (!c->dead && !c->held && t > c->deadline)
                    fail(c, "timeout at the %s step (%s)", op_names[script[c->step].op],
                         script[c->step].text ? script[c->step].text : "");
            }
        }
    }
    for (int i = 0; i < nlive; i++)
        if (!live[i]->dead) fail(live[i], "total time limit reached");
    reap();
    if (started < total) {
        failed_count += total - started;
        note_reason("not started: total time limit reached");
    }
    double elapsed = t_end - t_begin;
    printf("ok=%d failed=%d elapsed=%.6f", ok_count, failed_count, elapsed);
    if (!strcmp(mode, "sessions")) printf(" rate=%.2f", elapsed > 0 ? ok_count / elapsed : 0);
    if (!strcmp(mode, "bulk"))
        printf(" bytes=%llu xfer_s=%.6f", xfer_bytes, xfer_bytes ? xfer_end - xfer_start : 0);
    if (!strcmp(mode, "noop") && nlat > warm) {
        double *kept = lat + warm;
        int k = nlat - warm;
        double sum = 0;
        for (int i = 0; i < k; i++) sum += kept[i];
        qsort(kept, (size_t)k, sizeof *kept, cmp_double);
        int i99 = (int)(k * 0.99);
        if (i99 >= k) i99 = k - 1;
        printf(" p50_us=%.1f p99_us=%.1f mean_us=%.1f samples=%d", kept[k / 2] * 1e6, kept[i99] * 1e6,
               sum / k * 1e6, k);
    }
    printf("\n");
    for (int i = 0; i < nreasons; i++) fprintf(stderr, "loadgen: %d x %s\n", reasons[i].count, reasons[i].text);
    if (reasons_dropped) fprintf(stderr, "loadgen: %d more failures of other kinds\n", reasons_dropped);
    return 0;
}
