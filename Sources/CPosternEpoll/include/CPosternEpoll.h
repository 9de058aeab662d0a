// epoll(7) and accept4(2) for Swift: Glibc's module exposes neither, and struct epoll_event is packed on
// x86-64, so readiness comes back in a plain struct instead.
#ifndef POSTERN_EPOLL_H
#define POSTERN_EPOLL_H

#include <stdint.h>
#include <sys/socket.h>

/// One ready descriptor: the token it was registered with and its epoll event bits.
typedef struct {
    uint64_t token;
    uint32_t events;
} postern_epoll_ready;

extern const uint32_t postern_epollin;
extern const uint32_t postern_epollout;
extern const uint32_t postern_epollrdhup;
extern const uint32_t postern_epollerr;
extern const uint32_t postern_epollhup;
extern const uint32_t postern_epollet;

/// epoll_create1(EPOLL_CLOEXEC).
int postern_epoll_create(void);
/// epoll_ctl(EPOLL_CTL_ADD) with `events` and the token as the event's data.
int postern_epoll_add(int epfd, int fd, uint32_t events, uint64_t token);
/// epoll_ctl(EPOLL_CTL_DEL).
int postern_epoll_delete(int epfd, int fd);
/// epoll_wait with a zero timeout into `out` (at most `max`, up to 256): the number ready, or -1 (errno set).
int postern_epoll_poll(int epfd, postern_epoll_ready *out, int max);
/// epoll_wait with `timeout` ms (-1: until something is ready), retried on EINTR, as `postern_epoll_poll`.
int postern_epoll_wait(int epfd, postern_epoll_ready *out, int max, int timeout);
/// eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK): the stop signal of an epoll waiter thread.
int postern_eventfd(void);
/// Names the calling thread (pthread_setname_np; at most 15 bytes are kept).
void postern_name_thread(const char *name);
/// accept4 with SOCK_NONBLOCK | SOCK_CLOEXEC.
int postern_accept_nonblocking(int fd, struct sockaddr *address, socklen_t *length);

#endif
