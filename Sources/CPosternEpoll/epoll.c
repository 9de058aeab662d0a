#define _GNU_SOURCE
#include "CPosternEpoll.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>

const uint32_t postern_epollin = EPOLLIN;
const uint32_t postern_epollout = EPOLLOUT;
const uint32_t postern_epollrdhup = EPOLLRDHUP;
const uint32_t postern_epollerr = EPOLLERR;
const uint32_t postern_epollhup = EPOLLHUP;
const uint32_t postern_epollet = EPOLLET;

int postern_epoll_create(void) { return epoll_create1(EPOLL_CLOEXEC); }

int postern_epoll_add(int epfd, int fd, uint32_t events, uint64_t token) {
    struct epoll_event event = {.events = events, .data = {.u64 = token}};
    return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &event);
}

int postern_epoll_delete(int epfd, int fd) {
    struct epoll_event event = {0};
    return epoll_ctl(epfd, EPOLL_CTL_DEL, fd, &event);
}

int postern_epoll_poll(int epfd, postern_epoll_ready *out, int max) { return postern_epoll_wait(epfd, out, max, 0); }

int postern_epoll_wait(int epfd, postern_epoll_ready *out, int max, int timeout) {
    struct epoll_event events[256];
    if (max > 256) max = 256;
    int count;
    do {
        count = epoll_wait(epfd, events, max, timeout);
    } while (count < 0 && errno == EINTR);
    for (int index = 0; index < count; index++) {
        out[index].token = events[index].data.u64;
        out[index].events = events[index].events;
    }
    return count;
}

int postern_accept_nonblocking(int fd, struct sockaddr *address, socklen_t *length) {
    return accept4(fd, address, length, SOCK_NONBLOCK | SOCK_CLOEXEC);
}

int postern_eventfd(void) { return eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK); }

void postern_name_thread(const char *name) {
    char short_name[16];
    strncpy(short_name, name, sizeof short_name - 1);
    short_name[sizeof short_name - 1] = 0;
    pthread_setname_np(pthread_self(), short_name);
}
