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

/* helpers/sealctl/bind.c: bindings of a parsed plaintext. Every ca_pem must
 * be CERTIFICATE blocks OpenSSL parses (else a message and 125). */
#include <jansson.h>
#include "policy/profile.h"
int sealctl_check_bindings(const char *file, const struct profile_plain *p);
/* Names, deliveries, scopes, bindings: never values. */
json_t *sealctl_creds_json(const struct profile_plain *p);
void sealctl_creds_print(const struct profile_plain *p);
