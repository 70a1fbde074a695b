/* File system helpers for paths that come from outside: openat2 beneath a root, mkdir -p by fd. */
#pragma once
#include <stdint.h>
#include <sys/types.h>

/* openat2(2) with the given resolve flags; -errno on failure. */
int fs_openat2(int dirfd, const char *path, int flags, mode_t mode, uint64_t resolve);
/* Open (O_PATH|O_DIRECTORY) the directory `path` (relative, below dirfd),
 * creating missing components with mode 0755, never following symlinks and
 * never leaving dirfd. Returns an fd or -errno. */
int fs_mkdir_p_beneath(int dirfd, const char *path);
/* Split "a/b/c" into the parent "a/b" (written into buf) and "c". */
const char *fs_split_parent(const char *path, char *buf, size_t size);
