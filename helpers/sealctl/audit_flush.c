/* sealctl audit-flush: deliver the audit spool's entries (events sealrun could not deliver in time). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "helpers/sealctl/sealctl.h"
#include "policy/audit_spool.h"

int sealctl_audit_flush(int argc, char **argv) {
        static const struct option lo[] = {
                { "spool", required_argument, NULL, 's' },
                { "timeout", required_argument, NULL, 't' },
                { "help", no_argument, NULL, 'h' },
                { 0 },
        };
        struct audit_flush_result fr;
        struct sr_error e = { 0 };
        const char *dir = NULL;
        _cleanup_close_ int fd = -1;
        long timeout_s = 30;
        size_t left = 0;
        int c;
        while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
                switch (c) {
                case 's': dir = optarg; break;
                case 't':
                        if (parse_long(optarg, 1, 3600, &timeout_s) < 0)
                                return sealctl_usage_error("audit-flush", "--timeout: expected seconds, 1..3600");
                        break;
                case 'h':
                        printf("usage: sealctl audit-flush [--spool DIR] [--timeout SECONDS]\n"
                               "Delivers every entry of the audit spool (default %s, or $%s) to the\n"
                               "collector it names, including an \"abandoned\" record for a task whose sealrun\n"
                               "vanished. Root only. Exit 0 when the spool is empty afterwards (entries of\n"
                               "running tasks aside), 75 when some entries could not be delivered.\n",
                               AUDIT_SPOOL_DEFAULT, AUDIT_SPOOL_ENV);
                        return 0;
                default:
                        return sealctl_usage_error("audit-flush", "%s: unknown option or missing value",
                                                   argv[optind - 1]);
                }
        }
        if (optind < argc)
                return sealctl_usage_error("audit-flush", "%s: unexpected argument", argv[optind]);
        if (audit_spool_open(dir, false, &fd, &e) < 0)
                return sealctl_report("audit-flush", &e);
        (void)audit_spool_flush(fd, NULL, 5000, (int)timeout_s * 1000, AUDIT_SPOOL_MAX_ENTRIES, &fr);
        (void)audit_spool_count(fd, &left);
        printf("audit-flush: %u entries delivered (%u events, %u abandoned records), %u of running tasks, %zu left\n",
               fr.delivered, fr.events, fr.abandoned, fr.live, left >= fr.live ? left - fr.live : 0);
        if (fr.left) {
                fprintf(stderr, "sealctl audit-flush: %u entries not delivered: %s\n", fr.left, fr.first_error);
                return SR_EXIT_TEMPFAIL;
        }
        return 0;
}
