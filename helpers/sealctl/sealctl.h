/* sealctl: subcommands and the helpers they share. Each subcommand returns the exit code. */
#pragma once

#include "policy/util.h"

/* argv[0] is the subcommand's name; getopt state is reset by the dispatcher. */
int sealctl_keygen(int argc, char **argv);
int sealctl_seal(int argc, char **argv);
int sealctl_inspect(int argc, char **argv);
int sealctl_verify(int argc, char **argv);
int sealctl_revoke(int argc, char **argv);
int sealctl_audit_verify(int argc, char **argv); /* helpers/sealctl/audit_verify.c (audit issue) */
int sealctl_audit_flush(int argc, char **argv);  /* helpers/sealctl/audit_flush.c */

/* Print "sealctl CMD: MESSAGE" and return the error's exit code. */
int sealctl_report(const char *cmd, const struct sr_error *e);
/* Print "sealctl CMD: MESSAGE" plus a usage hint and return 125. */
int sealctl_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Write buf to path atomically (temp file + rename) with mode, or to stdout for "-". */
int sealctl_write_file(const char *path, const void *buf, size_t len, unsigned mode, struct sr_error *e);
