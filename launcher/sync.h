/* The sync socket between the supervisor and the sandbox (init and payload):
 * one SOCK_SEQPACKET message per event, so child errors travel back with the
 * step's name and are reported by the supervisor. */
#pragma once

#include <stdint.h>
#include "policy/util.h"

enum sync_type {
        SYNC_GO = 1,      /* supervisor → child: maps and host setup done */
        SYNC_ERROR,       /* child → supervisor: step failed (step, err, value=exit code, text) */
        SYNC_INIT_READY,  /* init → supervisor: payload forked (value = pid inside); relayed signals queue at init */
        SYNC_EXEC_FAILED, /* payload → supervisor: execve failed (err) */
        SYNC_INJECT,      /* payload → supervisor: names about to be staged (text) */
        SYNC_INJECT_ACK,  /* supervisor → payload: go on (err != 0: refuse) */
        SYNC_EXITED,      /* init → supervisor: payload's wait status (value) */
        SYNC_SCRUBBED,    /* init → supervisor: credentials wiped (err = 0 ok) */
        SYNC_NOTE,        /* child → supervisor: informational (text, e.g. not enforced) */
        SYNC_EXECED, /* init → supervisor: the payload's execve succeeded (its close-on-exec pipe closed clean) */
        SYNC_BUILT,  /* init → supervisor: a pre-built sandbox's steps are done; init waits for the claim */
};

#define SYNC_TEXT_MAX 8192

struct sync_msg {
        uint32_t type;
        int32_t err;
        int32_t value;
        char step[32];
        char text[SYNC_TEXT_MAX];
};

int sync_send(int fd, enum sync_type type, int err, int value, const char *step, const char *text);
/* Send an sr_error as SYNC_ERROR from the child's top frame. */
int sync_send_error(int fd, const char *step, const struct sr_error *e);
/* Receive one message; timeout_ms < 0 waits forever. -ETIMEDOUT, -EPIPE on EOF. */
int sync_recv(int fd, struct sync_msg *m, int timeout_ms);
