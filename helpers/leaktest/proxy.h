/* The audit relay of the leak test (see proxy.c). */
#pragma once

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define PROXY_MAX_CONNS 32

struct proxy_conn {
        bool used;
        int down, up; /* sealrun's connection, ours to the collector */
        pid_t peer;   /* SO_PEERCRED of sealrun's side: the supervisor */
};

struct proxy {
        int listen_fd;
        char upstream[108];
        struct proxy_conn conns[PROXY_MAX_CONNS];
        uint64_t messages, accepted, refused;
        /* called with each event from sealrun before it is forwarded */
        void (*on_event)(void *ud, const char *event, pid_t peer, const char *msg, size_t len);
        void *ud;
};

int proxy_open(struct proxy *p, const char *path, const char *upstream);
void proxy_close(struct proxy *p);
size_t proxy_pollfds(struct proxy *p, struct pollfd *fds, size_t max);
void proxy_handle(struct proxy *p, const struct pollfd *fds, size_t n);
