/* sealctl revoke: append an entry to a revocation list (locked, validated, idempotent, never group/world-writable). */
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>

#include "helpers/sealctl/sealctl.h"
#include "policy/audit_client.h"
#include "policy/profile.h"
#include "policy/trusted_file.h"

int sealctl_revoke(int argc, char **argv) {
        static const struct option opts[] = {
                { "revoked", required_argument, NULL, 'l' },
                { "list", required_argument, NULL, 'L' }, /* the old name */
                { "reason", required_argument, NULL, 'r' },
                { "version-below", required_argument, NULL, 'b' },
                { "check", no_argument, NULL, 'c' },
                { "tenant", required_argument, NULL, 't' },
                { "profile", required_argument, NULL, 'p' },
                { "version", required_argument, NULL, 'v' },
                { "key-id", required_argument, NULL, 'k' },
                { "audit-socket", required_argument, NULL, 'S' },
                { "audit", required_argument, NULL, 'A' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *old = NULL;
        struct revocation_list rl = { 0 };
        struct revoke_entry ent = { 0 };
        struct sr_error e = { 0 };
        const char *list = NULL, *tenant = NULL, *profile = NULL, *version = NULL, *below = NULL, *key_id = NULL;
        const char *reason = NULL;
        const char *audit_socket = NULL;
        enum pol_audit_mode audit_mode = POL_AUDIT_UNSET;
        bool check = false;
        char line[320], text[640], now_s[32], have[320];
        struct stat st;
        size_t old_len = 0;
        int c, r;

        while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
                switch (c) {
                case 'l': list = optarg; break;
                case 'L':
                        fputs("sealctl revoke: note: --list is deprecated, use --revoked FILE (the name sealrun, "
                              "sealctl verify and sealrun-pool-init use)\n",
                              stderr);
                        list = optarg;
                        break;
                case 'r': reason = optarg; break;
                case 'b': below = optarg; break;
                case 'c': check = true; break;
                case 't': tenant = optarg; break;
                case 'p': profile = optarg; break;
                case 'v': version = optarg; break;
                case 'k': key_id = optarg; break;
                case 'S': audit_socket = optarg; break;
                case 'A':
                        if ((audit_mode = pol_audit_mode_from_name(optarg)) == POL_AUDIT_UNSET)
                                return sealctl_usage_error(
                                        "revoke", "--audit: \"%s\" is not one of required, best-effort, off", optarg);
                        break;
                default: return sealctl_usage_error("revoke", "unknown or incomplete option %s", argv[optind - 1]);
                }
        }
        if (optind != argc)
                return sealctl_usage_error("revoke", "unexpected argument %s", argv[optind]);
        /* --check: is the list one sealrun would use (file checks and syntax)? */
        if (check) {
                if (!list || tenant || key_id || reason || version || below)
                        return sealctl_usage_error("revoke", "--check takes only --revoked FILE");
                if (revocation_load(list, &rl, &e) < 0)
                        return sealctl_report("revoke", &e);
                printf("%zu entr%s\n", rl.n, rl.n == 1 ? "y" : "ies");
                revocation_free(&rl);
                return 0;
        }
        if (!list || !!tenant == !!key_id)
                return sealctl_usage_error("revoke",
                                           "--revoked FILE and exactly one of --tenant and --key-id are required");
        if (reason) {
                if (!revocation_reason_valid(reason))
                        return sealctl_usage_error("revoke",
                                                   "--reason: expected a reason code, 1-64 of [A-Za-z0-9_.:-] "
                                                   "(\"key-leaked\", \"rotated\")");
                snprintf(ent.reason, sizeof ent.reason, "%s", reason);
        }
        if (version && below)
                return sealctl_usage_error("revoke", "--version and --version-below are mutually exclusive");
        if (key_id) {
                if (profile || version || below)
                        return sealctl_usage_error(
                                "revoke", "--profile, --version and --version-below go with --tenant, not --key-id");
                ent.kind = REVOKE_KEY;
                if (key_id_parse(key_id, ent.key_id) < 0)
                        return sealctl_usage_error("revoke", "--key-id: expected 16 lowercase hex digits");
        } else {
                ent.kind = REVOKE_TENANT;
                if (!slug_valid(tenant))
                        return sealctl_usage_error("revoke", "--tenant: not a tenant slug");
                snprintf(ent.tenant, sizeof ent.tenant, "%s", tenant);
                if ((version || below) && !profile)
                        return sealctl_usage_error("revoke", "--%s needs --profile",
                                                   version ? "version" : "version-below");
                if (profile) {
                        if (!profile_name_valid(profile))
                                return sealctl_usage_error("revoke", "--profile: not a profile name");
                        snprintf(ent.profile, sizeof ent.profile, "%s", profile);
                }
                if (version) {
                        long v;
                        if (parse_long(version, 1, 0x7fffffffffffffL, &v) < 0 || v > (1L << 53) - 1)
                                return sealctl_usage_error("revoke", "--version: expected an integer from 1 to 2^53-1");
                        ent.has_version = true;
                        ent.version = (uint64_t)v;
                }
                if (below) {
                        long v;
                        if (parse_long(below, 2, 0x7fffffffffffffL, &v) < 0 || v > (1L << 53) - 1)
                                return sealctl_usage_error("revoke",
                                                           "--version-below: expected an integer from 2 to 2^53-1");
                        ent.has_version = ent.version_below = true;
                        ent.version = (uint64_t)v;
                }
        }
        if (revocation_entry_format(&ent, line, sizeof line) < 0)
                return sealctl_usage_error("revoke", "entry too long");

        fd = open(list, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0644);
        if (fd < 0)
                return sealctl_usage_error("revoke", "%s: cannot open: %s", list, strerror(errno));
        if (flock(fd, LOCK_EX) < 0 || fstat(fd, &st) < 0)
                return sealctl_usage_error("revoke", "%s: cannot lock: %s", list, strerror(errno));
        if (!S_ISREG(st.st_mode))
                return sealctl_usage_error("revoke", "%s: not a regular file", list);
        /* never append to a list sealrun would reject */
        e = (struct sr_error){ 0 };
        if (trusted_file_check(fd, list, "revocation list", "revocation-list-permissions", 0, &e) < 0)
                return sealctl_report("revoke", &e);
        if ((r = read_fd_all(fd, 16u << 20, &old, &old_len)) < 0)
                return sealctl_usage_error("revoke", "%s: cannot read: %s", list, strerror(-r));
        if (revocation_parse(list, old, old_len, &rl, &e) < 0)
                return sealctl_report("revoke", &e);
        /* revoking twice changes nothing: no second line, no second event */
        for (size_t i = 0; i < rl.n; i++)
                if (revocation_entry_covers(&rl.v[i], &ent)) {
                        if (revocation_entry_format(&rl.v[i], have, sizeof have) < 0)
                                have[0] = 0;
                        revocation_free(&rl);
                        printf("already revoked: %s (by \"%s\" in %s; nothing written)\n", line, have, list);
                        return 0;
                }
        revocation_free(&rl);
        profile_time_format((int64_t)time(NULL), now_s);
        snprintf(text, sizeof text, "%s%s# revoked %s by uid %u\n%s\n",
                 old_len == 0
                         ? "# sealrun revocation list: \"tenant=T [profile=P [version=N|version<N]]\" or \"key=ID\", "
                           "then [reason=CODE], per line\n"
                         : "",
                 old_len > 0 && old[old_len - 1] != '\n' ? "\n" : "", now_s, (unsigned)getuid(), line);
        if ((r = write_all(fd, text, strlen(text))) < 0 || fsync(fd) < 0)
                return sealctl_usage_error("revoke", "%s: cannot write: %s", list, strerror(r < 0 ? -r : errno));
        printf("revoked: %s\n", line);
        /* the revocation is in force already; the audit event records it */
        if (audit_socket && (audit_socket[0] != '/' || strlen(audit_socket) >= 108))
                return sealctl_usage_error("revoke", "--audit-socket: must be an absolute path shorter than 108 bytes");
        /* nothing asked and no collector installed at the default path: nothing to tell */
        if (audit_mode == POL_AUDIT_UNSET && !audit_socket && access(AUDIT_DEFAULT_SOCKET, F_OK) < 0 && errno == ENOENT)
                return 0;
        if (audit_mode == POL_AUDIT_UNSET)
                audit_mode = POL_AUDIT_BEST_EFFORT;
        e = (struct sr_error){ 0 };
        /* "version<N" has no single version to name: the event names the profile */
        if (audit_emit_revoke(audit_socket, audit_mode, 0, tenant, profile,
                              ent.has_version && !ent.version_below ? (long long)ent.version : -1, key_id, reason,
                              &e) < 0)
                return sealctl_report("revoke", &e);
        return 0;
}
