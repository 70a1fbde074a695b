/* sealrun-pool: the reference worker of one tenant's pool: claims spooled task requests, runs them through sealrun. */
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "helpers/pool/pool.h"

#define RESCAN_MS 5000    /* inotify is the trigger; this is the safety net */
#define KILL_WAIT_MS 5000 /* after the sandboxes are killed, before sealrun is */

struct opts {
        const char *config;
        const char *tenant;
        bool once;
};

static void usage(FILE *f) {
        fputs("usage: sealrun-pool --config FILE [--tenant SLUG] [--once]\n"
              "Run one tenant's task requests through sealrun (see sealrun-pool(8)).\n"
              "  --config FILE   pool config (JSON: tenant, policy, trust, profiles_dir, max_tasks, ...)\n"
              "  --tenant SLUG   refuse to start unless the config is for this tenant (the unit passes %i)\n"
              "  --once          run what is in incoming/, wait for it, and exit\n"
              "Requests: one JSON object per file SPOOL/incoming/NAME.json\n"
              "  {\"task\":ID,\"tenant\":SLUG,\"profile\":NAME,\"scopes\":[...],\"command\":[...],\"workdir\":DIR}\n"
              "  (workdir: a directory beneath the config's work_root, copied into done/TASK.work)\n"
              "Status: SPOOL/done/TASK.json (sealrun's status stream; the last line is final),\n"
              "        SPOOL/done/TASK.out and TASK.err (the task's output), TASK.work/ (its work dir).\n"
              "The pool key comes from $CREDENTIALS_DIRECTORY/pool.key and reaches sealrun as fd 3.\n",
              f);
}

static int parse_args(int argc, char **argv, struct opts *o, struct sr_error *e) {
        static const struct option lo[] = {
                { "config", required_argument, NULL, 'c' }, { "tenant", required_argument, NULL, 't' },
                { "once", no_argument, NULL, 'o' },         { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, 'V' },      { 0 },
        };
        int c;
        opterr = 0;
        while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
                switch (c) {
                case 'c': o->config = optarg; break;
                case 't': o->tenant = optarg; break;
                case 'o': o->once = true; break;
                case 'h': usage(stdout); exit(0);
                case 'V': printf("sealrun-pool %s\n", SEALRUN_VERSION); exit(0);
                default:
                        return sr_fail(e, SR_EXIT_LAUNCHER, EINVAL, "usage",
                                       "%s: unknown option or missing value (see --help)", argv[optind - 1]);
                }
        }
        if (optind < argc)
                return sr_fail(e, SR_EXIT_LAUNCHER, EINVAL, "usage", "%s: unexpected argument", argv[optind]);
        if (!o->config)
                return sr_fail(e, SR_EXIT_LAUNCHER, EINVAL, "usage", "--config FILE is required");
        if (o->tenant && !slug_valid(o->tenant))
                return sr_fail(e, SR_EXIT_LAUNCHER, EINVAL, "usage", "--tenant: \"%s\" is not a tenant slug",
                               o->tenant);
        return 0;
}

/* sd_notify(3) without libsystemd: one datagram to $NOTIFY_SOCKET. */
static void notify(const char *msg) {
        const char *path = getenv("NOTIFY_SOCKET");
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        size_t n;
        int fd;
        if (!path || (path[0] != '/' && path[0] != '@') || (n = strlen(path)) >= sizeof sa.sun_path)
                return;
        memcpy(sa.sun_path, path, n);
        if (path[0] == '@')
                sa.sun_path[0] = 0;
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return;
        (void)sendto(fd, msg, strlen(msg), MSG_NOSIGNAL, (struct sockaddr *)&sa,
                     offsetof(struct sockaddr_un, sun_path) + n);
        close(fd);
}

static void notify_status(struct pool *p) {
        static size_t last = (size_t)-1;
        char m[96];
        if (p->running == last)
                return;
        last = p->running;
        snprintf(m, sizeof m, "STATUS=%zu/%ld tasks running", p->running, p->cfg.max_tasks);
        notify(m);
}

/* The pool key: systemd's credential (LoadCredentialEncrypted=pool.key:...)
 * or, outside systemd, the config's key_file. Only its directory and name are
 * kept: each task opens it afresh and gets it as fd 3; the worker never reads it. */
static int key_setup(struct pool *p, struct sr_error *e) {
        const char *creds = getenv("CREDENTIALS_DIRECTORY");
        _cleanup_free_ char *dir = NULL, *base = NULL;
        struct stat st;
        if (creds && creds[0] == '/') {
                dir = strdup(creds);
                base = strdup(POOL_KEY_CREDENTIAL);
        } else if (p->cfg.key_file) {
                _cleanup_free_ char *a = strdup(p->cfg.key_file), *b = strdup(p->cfg.key_file);
                if (a && b) {
                        dir = strdup(dirname(a));
                        base = strdup(basename(b));
                }
        } else
                return 0; /* no key: tasks with a profile are refused */
        if (!dir || !base)
                return -ENOMEM;
        p->key_dir_fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (p->key_dir_fd < 0 || fstatat(p->key_dir_fd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, errno, "no-pool-key", "pool key %s/%s: %s", dir, base,
                               strerror(errno));
        if (!S_ISREG(st.st_mode))
                return sr_fail(e, SR_EXIT_LAUNCHER, EINVAL, "no-pool-key", "pool key %s/%s: not a regular file", dir,
                               base);
        /* sealrun refuses a secret key others could read; say so once, here. */
        if (st.st_mode & 077)
                fprintf(stderr,
                        "sealrun-pool: warning: pool key %s/%s has mode %04o; sealrun refuses keys readable by group "
                        "or others\n",
                        dir, base, (unsigned)(st.st_mode & 07777));
        p->key_name = TAKE_PTR(base);
        return 0;
}

/* sealrun next to this binary unless the config names one. */
static int find_sealrun(struct pool *p, struct sr_error *e) {
        char self[4096];
        ssize_t n;
        if (p->cfg.sealrun)
                p->sealrun = strdup(p->cfg.sealrun);
        else if ((n = readlink("/proc/self/exe", self, sizeof self - 1)) > 0) {
                self[n] = 0;
                if (asprintf(&p->sealrun, "%s/sealrun", dirname(self)) < 0)
                        p->sealrun = NULL;
        }
        if (!p->sealrun)
                return -ENOMEM;
        if (access(p->sealrun, X_OK) < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, errno, "config", "%s: sealrun: %s: %s", p->cfg.file, p->sealrun,
                               strerror(errno));
        return 0;
}

/* Work dirs: only for a pool run as its own user. sealrun maps an
 * unprivileged caller's sandbox to the caller's uid, so the copy the pool
 * makes is the task's own; a root pool's tasks run as the tenant's id block,
 * which would not own it. */
static int work_setup(struct pool *p, const char *spool, struct sr_error *e) {
        _cleanup_free_ char *keydir = NULL, *cfgdir = NULL;
        const char *creds = getenv("CREDENTIALS_DIRECTORY");
        if (!p->cfg.work_root)
                return 0;
        if (geteuid() == 0)
                return sr_fail(e, SR_EXIT_REFUSED, EPERM, "config",
                               "%s: $.work_root: work dirs need the pool to run as its own user (sealrun-pool@.service "
                               "does), not as root",
                               p->cfg.file);
        if (creds && creds[0] == '/')
                keydir = strdup(creds);
        else if (p->cfg.key_file) {
                _cleanup_free_ char *k = strdup(p->cfg.key_file);
                keydir = k ? strdup(dirname(k)) : NULL;
        }
        _cleanup_free_ char *c = strdup(p->cfg.file);
        cfgdir = c ? strdup(dirname(c)) : NULL;
        if (!cfgdir)
                return -ENOMEM;
        const char *protect[] = { spool, keydir, p->cfg.profiles_dir, cfgdir };
        return workdir_open_root(p, protect, ELEMENTSOF(protect), e);
}

static int setup(struct pool *p, const struct opts *o, struct sr_error *e) {
        const char *spool, *rt = getenv("RUNTIME_DIRECTORY");
        int r;
        if ((r = pool_config_load(o->config, &p->cfg, e)) < 0)
                return r;
        if (o->tenant && strcmp(o->tenant, p->cfg.tenant) != 0)
                return sr_fail(e, SR_EXIT_REFUSED, EPERM, "cross-tenant",
                               "%s: $.tenant: \"%s\", but this pool is for \"%s\"", o->config, p->cfg.tenant,
                               o->tenant);
        spool = p->cfg.spool ? p->cfg.spool : getenv("STATE_DIRECTORY");
        if (!spool || spool[0] != '/' || strchr(spool, ':'))
                return sr_fail(e, SR_EXIT_LAUNCHER, EINVAL, "config",
                               "%s: no spool directory: set \"spool\" or run under systemd with one StateDirectory=",
                               o->config);
        if (rt && rt[0] == '/' && !strchr(rt, ':'))
                p->runtime_dir = strdup(rt);
        if ((r = find_sealrun(p, e)) < 0 || (r = work_setup(p, spool, e)) < 0 || (r = spool_open(p, spool, e)) < 0 ||
            (r = key_setup(p, e)) < 0)
                return r;
        if (p->cfg.profiles_dir && p->key_dir_fd < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, ENOENT, "no-pool-key",
                               "%s: profiles_dir is set but there is no pool key ($CREDENTIALS_DIRECTORY/pool.key or "
                               "key_file)",
                               o->config);
        p->tasks = calloc((size_t)p->cfg.max_tasks, sizeof *p->tasks);
        p->pre = calloc((size_t)p->cfg.prebuilt + 1, sizeof *p->pre);
        if (!p->tasks || !p->pre || pool_audit_open(&p->cfg, &p->audit) < 0)
                return -ENOMEM;
        return 0;
}

/* Claim and start requests while there are free slots. Returns true when
 * incoming/ still had requests left over. */
static bool fill(struct pool *p) {
        char **names = NULL;
        bool left = false;
        if (spool_scan(p, &names) < 0)
                return false;
        for (size_t i = 0; names[i]; i++) {
                struct pool_request rq;
                struct sr_error e = { 0 };
                char stem[130];
                if (p->running >= (size_t)p->cfg.max_tasks) {
                        left = true;
                        break;
                }
                if (spool_claim(p, names[i]) < 0)
                        continue; /* gone: another pool of this tenant took it */
                if (spool_read_request(p, names[i], &rq, &e) < 0) {
                        spool_refuse(p, names[i], rq.task, &e);
                } else if (spool_task_known(p, rq.task)) {
                        spool_done_stem(rq.task, names[i], stem);
                        sr_fail(&e, SR_EXIT_REFUSED, EEXIST, "duplicate-task",
                                "%s: $.task: task %s is running or done already", names[i], stem);
                        spool_refuse(p, names[i], rq.task, &e);
                } else if (run_start(p, names[i], &rq, &e) < 0) {
                        spool_refuse(p, names[i], rq.task, &e);
                }
                pool_request_free(&rq);
        }
        spool_names_free(names);
        return left;
}

static int loop(struct pool *p, bool once) {
        sigset_t mask;
        int sfd, ifd;
        int stop_stage = 0;
        int64_t deadline = -1;
        bool more = true;

        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
        ifd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
        if (sfd < 0 || ifd < 0 || inotify_add_watch(ifd, p->incoming_path, IN_MOVED_TO | IN_CLOSE_WRITE) < 0) {
                fprintf(stderr, "sealrun-pool: %s: cannot watch %s: %s\n", p->cfg.tenant, p->incoming_path,
                        strerror(errno));
                return SR_EXIT_LAUNCHER;
        }
        notify("READY=1");
        fprintf(stderr, "sealrun-pool: %s: ready (up to %ld tasks, spool %s)\n", p->cfg.tenant, p->cfg.max_tasks,
                p->incoming_path);

        for (;;) {
                struct pollfd pf[2] = { { .fd = sfd, .events = POLLIN }, { .fd = ifd, .events = POLLIN } };
                int timeout = RESCAN_MS;
                char buf[4096];
                if (!stop_stage && (more || p->running < (size_t)p->cfg.max_tasks)) {
                        more = fill(p);
                        notify_status(p);
                }
                if (!stop_stage)
                        prebuilt_fill(p); /* replaces the ones used or ended */
                if (once && !stop_stage && p->running == 0 && !more)
                        break;
                if (stop_stage && p->running == 0)
                        break;
                if (deadline >= 0) {
                        int64_t left = deadline - now_ms();
                        timeout = left < 0 ? 0 : (int)left;
                }
                if (poll(pf, 2, timeout) < 0 && errno != EINTR)
                        break;
                if (pf[1].revents & POLLIN)
                        while (read(ifd, buf, sizeof buf) > 0)
                                more = true;
                if (pf[0].revents & POLLIN) {
                        struct signalfd_siginfo si;
                        while (read(sfd, &si, sizeof si) == sizeof si) {
                                if (si.ssi_signo == SIGCHLD)
                                        continue;
                                if (si.ssi_signo == SIGHUP) {
                                        more = true; /* rescan; the config is read once, at start */
                                        continue;
                                }
                                if (!stop_stage) {
                                        notify("STOPPING=1");
                                        fprintf(stderr, "sealrun-pool: %s: stopping: %zu tasks running\n",
                                                p->cfg.tenant, p->running);
                                        stop_stage = 1;
                                        prebuilt_stop(p);
                                        run_stop(p, 1);
                                        deadline = now_ms() + p->cfg.stop_grace_ms;
                                }
                        }
                        run_reap(p);
                        more = true;
                }
                if (stop_stage && deadline >= 0 && now_ms() >= deadline && p->running > 0) {
                        stop_stage++;
                        run_stop(p, stop_stage);
                        deadline = stop_stage < 3 ? now_ms() + KILL_WAIT_MS : -1;
                }
        }
        prebuilt_stop(p);
        close(ifd);
        close(sfd);
        return 0;
}

int main(int argc, char **argv) {
        struct pool p = { .incoming_fd = -1, .claimed_fd = -1, .done_fd = -1, .key_dir_fd = -1, .work_root_fd = -1 };
        struct opts o = { 0 };
        struct sr_error e = { 0 };
        int r;
        umask(027);
        if (parse_args(argc, argv, &o, &e) < 0 || setup(&p, &o, &e) < 0) {
                fprintf(stderr, "sealrun-pool: %s\n", e.msg[0] ? e.msg : "out of memory");
                r = e.exit_code ? e.exit_code : SR_EXIT_LAUNCHER;
        } else {
                spool_recover(&p);
                r = loop(&p, o.once);
        }
        pool_audit_free(p.audit);
        pool_config_free(&p.cfg);
        free(p.tasks);
        free(p.pre);
        free(p.sealrun);
        free(p.runtime_dir);
        free(p.key_name);
        free(p.incoming_path);
        free(p.done_path);
        if (p.work_root_fd >= 0)
                close(p.work_root_fd);
        return r;
}
