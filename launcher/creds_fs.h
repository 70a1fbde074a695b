/* The credentials directory: a private locked-down mount, staged by the payload and wiped in place by init. */
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "launcher/task.h"

struct creds_file {
        const char *name; /* validated: printable ASCII, no '/', not . or .. */
        const uint8_t *value;
        size_t len;
};

/* Payload, before the privilege drop: build a fresh tmpfs (noswap) or ramfs,
 * write one 0400 file per credential owned by the sandbox uid, make the root
 * 0500, set nodev,nosuid,noexec,ro, and only then attach it at `dir` (so no
 * process ever sees it half-written or writable). */
int creds_fs_stage(struct task *t, const char *dir, const struct creds_file *files, size_t n, struct sr_error *e);
/* Init, after every sandbox process exited: make the mount writable again,
 * overwrite every file's contents with zeros in place, fsync, unlink, and
 * unmount. No mount at `dir` (staging never happened) is not an error. */
int creds_fs_scrub(struct task *t, const char *dir, struct sr_error *e);
/* Init, before the payload runs: an O_PATH fd on the parent of `dir`. */
int creds_fs_hold_parent(const char *dir);
/* creds_fs_scrub, with `dir`'s last component looked up below parent_fd
 * (from creds_fs_hold_parent; -1: by path). */
int creds_fs_scrub_at(struct task *t, int parent_fd, const char *dir, struct sr_error *e);
