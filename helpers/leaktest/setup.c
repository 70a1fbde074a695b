/* Setup of a normal run: the private directory, keys and sealed profiles (sealctl), the policy, the audit collector. */
#include "helpers/leaktest/fleet.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sodium.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

/* Tenant a's and b's working profiles: every delivery mode, a scoped
 * credential the task is granted and one it is not, a binary value. */
static const struct cred_spec MAIN_CREDS[] = {
        { "github_token", "file", NULL, false, true, NULL },
        { "OPENAI_API_KEY", "env", "read:model:gpt", false, true, NULL },
        { "DB_PASSWORD", "both", NULL, false, true, NULL },
        { "signing_key", "file", NULL, true, true, NULL },
        { "DEPLOY_TOKEN", "env", "write:repo:main", false, false, NULL },
};
/* The brokered task's profile (network mode proxy): a credential bound to a
 * host, which the payload must get only as a placeholder, and an unbound one. */
static const struct cred_spec BROKER_CREDS[] = {
        { EG_CRED, "both", NULL, false, true, EG_BOUND_HOST },
        { "plain_token", "file", NULL, false, true, NULL },
};
/* Profiles that must be refused: two credentials each, to be found nowhere. */
static const struct cred_spec REFUSED_CREDS[] = {
        { "github_token", "file", NULL, false, true, NULL },
        { "OPENAI_API_KEY", "env", NULL, false, true, NULL },
};

int run_tool(struct fleet *f, char *const argv[], const void *in, size_t in_len) {
        int inp[2], st, logfd;
        pid_t c;
        if (pipe2(inp, O_CLOEXEC) < 0)
                return -errno;
        logfd = open(f->tools_log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
        c = fork();
        if (c < 0) {
                close(inp[0]);
                close(inp[1]);
                if (logfd >= 0)
                        close(logfd);
                return -errno;
        }
        if (c == 0) {
                if (dup2(inp[0], 0) < 0 || (logfd >= 0 && (dup2(logfd, 1) < 0 || dup2(logfd, 2) < 0)))
                        _exit(125);
                execv(argv[0], argv);
                dprintf(2, "sealrun-leaktest: exec %s: %s\n", argv[0], strerror(errno));
                _exit(127);
        }
        close(inp[0]);
        if (logfd >= 0)
                close(logfd);
        signal(SIGPIPE, SIG_IGN);
        if (in_len > 0)
                (void)write_all(inp[1], in, in_len);
        close(inp[1]);
        while (waitpid(c, &st, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int setup_dir(struct fleet *f) {
        struct lt *lt = f->lt;
        const char *tmp = getenv("TMPDIR");
        char tasks[PATH_MAX], profiles[PATH_MAX];
        if (!tmp || tmp[0] != '/' || strlen(tmp) > 40)
                tmp = "/tmp"; /* socket paths must stay under 108 bytes */
        snprintf(lt->dir, sizeof lt->dir, "%s/sealrun-leaktest.XXXXXX", tmp);
        if (!mkdtemp(lt->dir))
                return -errno;
        if (chmod(lt->dir, 0700) < 0)
                return -errno;
        char scratch_bin[PATH_MAX];
        snprintf(scratch_bin, sizeof scratch_bin, "%s/bin", lt->dir);
        snprintf(f->keys, sizeof f->keys, "%s/k", lt->dir);
        snprintf(f->audit_dir, sizeof f->audit_dir, "%s/a", lt->dir);
        snprintf(f->tools_log, sizeof f->tools_log, "%s/tools.log", lt->dir);
        snprintf(tasks, sizeof tasks, "%s/t", lt->dir);
        snprintf(profiles, sizeof profiles, "%s/p", lt->dir);
        if (mkdir(scratch_bin, 0700) < 0 || mkdir(f->keys, 0700) < 0 || mkdir(f->audit_dir, 0700) < 0 ||
            mkdir(tasks, 0700) < 0 || mkdir(profiles, 0700) < 0)
                return -errno;
        /* The payload is this very program, its directory bound read-only at
         * /lt (no copy: a noexec /tmp would stop it). */
        snprintf(f->payload_exe, sizeof f->payload_exe, "%s", lt->self_exe);
        snprintf(f->bin_dir, sizeof f->bin_dir, "%s", lt->self_exe);
        char *slash = strrchr(f->bin_dir, '/');
        if (!slash || slash == f->bin_dir)
                return -EINVAL;
        *slash = '\0';
        snprintf(f->payload_in, sizeof f->payload_in, "/lt/%s", slash + 1);
        return 0;
}

static struct profile *add_profile(struct fleet *f, const char *name, const char *tenant, int version, const char *pool,
                                   const char *issuer, const char *not_after, const struct cred_spec *specs, size_t n) {
        struct profile *p = &f->profiles[f->n_profiles++];
        memset(p, 0, sizeof *p);
        snprintf(p->name, sizeof p->name, "%s", name);
        snprintf(p->tenant, sizeof p->tenant, "%s", tenant);
        p->version = version;
        p->pool = pool;
        p->issuer = issuer;
        p->not_after = not_after;
        p->specs = specs;
        p->n = n;
        p->owner = lt_owner_new(f->lt, name, tenant);
        for (size_t i = 0; i < n; i++) {
                p->canary[i] = lt_canary_new(f->lt, p->owner, specs[i].name, specs[i].binary);
                if (p->canary[i] >= 0 && !specs[i].granted)
                        f->lt->nowhere[p->canary[i]] = true;
                if (p->canary[i] >= 0 && specs[i].bind)
                        f->lt->broker_only[p->canary[i]] = true;
        }
        snprintf(p->sealed, sizeof p->sealed, "%s/p/%s.sealed", f->lt->dir, name);
        return p;
}

/* The plaintext, built in locked memory and handed to sealctl on a pipe:
 * it is never written to disk, never in an argv or environment. */
static int seal(struct fleet *f, struct profile *p) {
        struct lt *lt = f->lt;
        size_t cap = 8192, o = 0;
        char *js = sodium_malloc(cap), ver[16], to[PATH_MAX], sign[PATH_MAX];
        int r;
        if (!js)
                return -ENOMEM;
#define PUT(...) \
        do { \
                o += (size_t)snprintf(js + o, cap - o, __VA_ARGS__); \
        } while (0)
        PUT("{\"tenant\":\"%s\",\"credentials\":[", p->tenant);
        for (size_t i = 0; i < p->n && o < cap - 512; i++) {
                const struct canary *c = &lt->canaries[p->canary[i]];
                PUT("%s{\"name\":\"%s\",\"as\":\"%s\",", i ? "," : "", p->specs[i].name, p->specs[i].as);
                if (p->specs[i].scope)
                        PUT("\"scope\":\"%s\",", p->specs[i].scope);
                if (p->specs[i].bind) {
                        /* the bound server on this host's loopback: the
                         * binding pins the name there and carries the test CA */
                        PUT("\"bind\":{\"hosts\":[\"%s\"],\"port\":%u,\"inject\":\"bearer\","
                            "\"resolve\":{\"%s\":[\"127.0.0.1\"]},\"ca_pem\":\"",
                            p->specs[i].bind, (unsigned)f->srv.port, p->specs[i].bind);
                        for (const char *pc = f->pki.ca_pem; pc && *pc && o < cap - 600; pc++)
                                if (*pc == '\n')
                                        PUT("\\n");
                                else
                                        js[o++] = *pc;
                        PUT("\"},");
                }
                if (p->specs[i].binary) {
                        PUT("\"value_base64\":\"");
                        o += b64_encode(c->val, c->len, js + o);
                } else {
                        PUT("\"value\":\"");
                        memcpy(js + o, c->val, c->len); /* text canaries need no JSON escaping */
                        o += c->len;
                }
                PUT("\"}");
        }
        PUT("]}");
#undef PUT
        snprintf(ver, sizeof ver, "%d", p->version);
        snprintf(to, sizeof to, "%s/pool-%s.pub", f->keys, p->pool);
        snprintf(sign, sizeof sign, "%s/%s.key", f->keys, p->issuer);
        char *argv[] = { (char *)lt->sealctl,
                         "seal",
                         "--tenant",
                         p->tenant,
                         "--profile",
                         p->name,
                         "--version",
                         ver,
                         "--not-after",
                         (char *)p->not_after,
                         "--to",
                         to,
                         "--sign",
                         sign,
                         "--in",
                         "-",
                         "--out",
                         p->sealed,
                         NULL };
        r = run_tool(f, argv, js, o);
        sodium_free(js);
        p->ok = r == 0;
        return r == 0 ? 0 : -EIO;
}

/* Flip one character in the middle of the longest base64 run (ciphertext
 * or signature): the file stays well-formed JSON, the envelope is forged. */
static int tamper(const char *path) {
        int fd = open(path, O_RDWR | O_CLOEXEC), r;
        char *data;
        size_t n, best = 0, best_at = 0, run = 0;
        if (fd < 0)
                return -errno;
        if ((r = read_fd_all(fd, 1u << 20, &data, &n)) < 0) {
                close(fd);
                return r;
        }
        for (size_t i = 0; i <= n; i++) {
                char c = i < n ? data[i] : 0;
                bool b64 = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
                           c == '/' || c == '-' || c == '_';
                if (b64) {
                        run++;
                        continue;
                }
                if (run > best) {
                        best = run;
                        best_at = i - run;
                }
                run = 0;
        }
        r = -EINVAL;
        if (best >= 16) {
                size_t k = best_at + best / 2;
                data[k] = data[k] == 'A' ? 'B' : 'A';
                r = pwrite(fd, data, n, 0) == (ssize_t)n ? 0 : -EIO;
        }
        free(data);
        close(fd);
        return r;
}

static int write_text(const char *path, const char *text) {
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0)
                return -errno;
        int r = write_all(fd, text, strlen(text));
        close(fd);
        return r;
}

int setup_profiles(struct fleet *f) {
        struct lt *lt = f->lt;
        static const char *const keys[][2] = {
                { "--issuer", "issuer" }, { "--issuer", "issuer2" }, { "--pool", "pool-a" }, { "--pool", "pool-b" }
        };
        char prefix[PATH_MAX], list[PATH_MAX];
        int fails = 0;

        /* the brokered task's bound server: its port and CA go into the binding */
        if (tls_pki_make(&f->pki) < 0 || tls_srv_listen(&f->srv) < 0)
                fails++;
        snprintf(f->ca_file, sizeof f->ca_file, "%s/ca.pem", lt->dir);
        if (f->pki.ca_pem && write_text(f->ca_file, f->pki.ca_pem) < 0)
                fails++;
        for (size_t i = 0; i < ELEMENTSOF(keys); i++) {
                snprintf(prefix, sizeof prefix, "%s/%s", f->keys, keys[i][1]);
                char *argv[] = { (char *)lt->sealctl, "keygen", (char *)keys[i][0], "--out", prefix, NULL };
                if (run_tool(f, argv, NULL, 0) != 0)
                        fails++;
        }
        add_profile(f, "a", "lt-a", 1, "a", "issuer", "+1h", MAIN_CREDS, ELEMENTSOF(MAIN_CREDS));
        add_profile(f, "b", "lt-b", 1, "b", "issuer", "+1h", MAIN_CREDS, ELEMENTSOF(MAIN_CREDS));
        add_profile(f, "tampered", "lt-a", 1, "a", "issuer", "+1h", REFUSED_CREDS, ELEMENTSOF(REFUSED_CREDS));
        /* sealctl refuses a time already past: this one expires while the fleet runs */
        add_profile(f, "expired", "lt-a", 1, "a", "issuer", "+1s", REFUSED_CREDS, ELEMENTSOF(REFUSED_CREDS));
        add_profile(f, "revoked", "lt-a", 7, "a", "issuer", "+1h", REFUSED_CREDS, ELEMENTSOF(REFUSED_CREDS));
        add_profile(f, "foreign", "lt-b", 1, "b", "issuer", "+1h", REFUSED_CREDS, ELEMENTSOF(REFUSED_CREDS));
        add_profile(f, "wrongpool", "lt-a", 1, "b", "issuer", "+1h", REFUSED_CREDS, ELEMENTSOF(REFUSED_CREDS));
        add_profile(f, "untrusted", "lt-a", 1, "a", "issuer2", "+1h", REFUSED_CREDS, ELEMENTSOF(REFUSED_CREDS));
        add_profile(f, "down", "lt-a", 1, "a", "issuer", "+1h", REFUSED_CREDS, ELEMENTSOF(REFUSED_CREDS));
        add_profile(f, "brokered", "lt-a", 1, "a", "issuer", "+1h", BROKER_CREDS, ELEMENTSOF(BROKER_CREDS));
        for (size_t i = 0; i < f->n_profiles; i++)
                if (f->profiles[i].owner < 0 || f->profiles[i].canary[0] < 0)
                        return -ENOMEM;
        if (lt_scanner_build(lt) < 0)
                return -ENOMEM;
        for (size_t i = 0; i < f->n_profiles; i++)
                if (seal(f, &f->profiles[i]) < 0)
                        fails++;
        if (f->profiles[2].ok && tamper(f->profiles[2].sealed) < 0)
                fails++;
        /* the revocation list every run is given; it revokes "revoked" v7 */
        snprintf(list, sizeof list, "%s/revoked.json", lt->dir);
        snprintf(f->revoked, sizeof f->revoked, "%s", list);
        char *argv[] = { (char *)lt->sealctl, "revoke",  "--revoked", list, "--tenant", "lt-a",
                         "--profile",         "revoked", "--version", "7",  NULL };
        if (run_tool(f, argv, NULL, 0) != 0)
                fails++;
        f->sealctl_ok = fails == 0;
        return fails ? -EIO : 0;
}

int setup_policy(struct fleet *f) {
        FILE *p;
        snprintf(f->policy, sizeof f->policy, "%s/policy.json", f->lt->dir);
        p = fopen(f->policy, "we");
        if (!p)
                return -errno;
        /* the stock default policy, the payload's directory bound at /lt,
         * env delivery allowed (it is opt-in), the scope ceiling */
        fprintf(p,
                "{\"version\":1,\"hostname\":\"sandbox\",\"uid\":1000,\"gid\":1000,\"host_uid\":65534,\"host_gid\":"
                "65534,\n"
                " \"chdir\":\"/home/sandbox\",\n"
                " \"mounts\":[{\"type\":\"ro-bind\",\"src\":\"/usr\",\"dst\":\"/usr\"},\n"
                "  {\"type\":\"symlink\",\"dst\":\"/bin\",\"target\":\"usr/bin\"},\n"
                "  {\"type\":\"symlink\",\"dst\":\"/lib\",\"target\":\"usr/lib\"},\n"
                "  {\"type\":\"symlink\",\"dst\":\"/lib64\",\"target\":\"usr/lib64\"},\n"
                "  "
                "{\"type\":\"ro-bind\",\"src\":\"/etc/ld.so.cache\",\"dst\":\"/etc/ld.so.cache\",\"optional\":true},\n"
                "  {\"type\":\"proc\",\"dst\":\"/proc\"},{\"type\":\"dev\",\"dst\":\"/dev\"},\n"
                "  {\"type\":\"tmpfs\",\"dst\":\"/tmp\",\"mode\":\"1777\",\"size\":16777216},\n"
                "  {\"type\":\"tmpfs\",\"dst\":\"/home/sandbox\",\"mode\":\"0700\",\"size\":16777216},\n"
                "  {\"type\":\"dir\",\"dst\":\"/run\",\"mode\":\"0755\"},\n"
                "  {\"type\":\"ro-bind\",\"src\":\"%s\",\"dst\":\"/lt\"}],\n"
                " \"env\":{\"set\":{\"PATH\":\"/usr/bin:/bin\",\"HOME\":\"/home/sandbox\"}},\n"
                " \"limits\":{\"rlimits\":{\"core\":0}},\n"
                " \"network\":{\"mode\":\"none\"},\n"
                " \"credentials\":{\"allow_env\":true,\"scope_ceiling\":[\"read:model:*\"]}}\n",
                f->bin_dir);
        if (fclose(p) != 0)
                return -errno;
        /* the brokered task's: the same in network mode proxy. Its bound
         * host and an unbound one are allowed on the server's port; the
         * unbound one is pinned by the policy to the same server, whose CA
         * is the policy's trust store (for unbound hosts only); loopback is
         * allowed on that port only (the address ceiling). */
        unsigned port = f->srv.port;
        snprintf(f->policy_proxy, sizeof f->policy_proxy, "%s/policy-proxy.json", f->lt->dir);
        p = fopen(f->policy_proxy, "we");
        if (!p)
                return -errno;
        fprintf(p,
                "{\"extends\":\"%s\",\"network\":{\"mode\":\"proxy\",\"egress\":{\"allow\":"
                "[{\"host\":\"" EG_BOUND_HOST "\",\"ports\":[%u]},{\"host\":\"" EG_OTHER_HOST "\",\"ports\":[%u]},"
                "{\"host\":\"127.0.0.1/32\",\"ports\":[%u]}],"
                "\"resolve\":{\"" EG_OTHER_HOST "\":[\"127.0.0.1\"]},\"trust_store\":\"%s\","
                "\"limits\":{\"connect_timeout_ms\":5000,\"header_timeout_ms\":5000}}}}\n",
                f->policy, port, port, port, f->ca_file);
        return fclose(p) == 0 ? 0 : -errno;
}

static bool socket_ready(const char *path) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        bool ok;
        snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
        ok = fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
        if (fd >= 0)
                close(fd);
        return ok;
}

int setup_auditd(struct fleet *f) {
        struct lt *lt = f->lt;
        char logdir[PATH_MAX], allow[PATH_MAX];
        snprintf(f->collector, sizeof f->collector, "%s/a/c.sock", lt->dir);
        snprintf(f->proxy_path, sizeof f->proxy_path, "%s/a/p.sock", lt->dir);
        snprintf(f->dead_socket, sizeof f->dead_socket, "%s/a/none.sock", lt->dir);
        snprintf(logdir, sizeof logdir, "%s/log", f->audit_dir);
        snprintf(allow, sizeof allow, "%s/allow", f->audit_dir);
        /* unprivileged, the collector accepts events only from uids it is told of */
        FILE *a = fopen(allow, "we");
        if (a) {
                fprintf(a, "{\"version\":1,\"allow\":[{\"uid\":%u,\"tenants\":[\"lt-a\",\"lt-b\"]}]}\n",
                        (unsigned)getuid());
                fclose(a);
        }
        int logfd = open(f->tools_log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
        pid_t c = fork();
        if (c < 0)
                return -errno;
        if (c == 0) {
                int dn = open("/dev/null", O_RDONLY);
                if (dn < 0 || dup2(dn, 0) < 0 || (logfd >= 0 && (dup2(logfd, 1) < 0 || dup2(logfd, 2) < 0)))
                        _exit(125);
                if (getuid() == 0)
                        execl(lt->auditd, lt->auditd, "--socket", f->collector, "--dir", logdir, NULL);
                else
                        execl(lt->auditd, lt->auditd, "--socket", f->collector, "--dir", logdir, "--allow", allow,
                              NULL);
                _exit(127);
        }
        if (logfd >= 0)
                close(logfd);
        f->auditd = c;
        for (int i = 0; i < 300; i++) {
                int st;
                if (socket_ready(f->collector)) {
                        f->auditd_ok = true;
                        break;
                }
                if (waitpid(c, &st, WNOHANG) == c) {
                        f->auditd = 0;
                        break;
                }
                poll(NULL, 0, 10);
        }
        int r = proxy_open(&f->proxy, f->proxy_path, f->collector);
        return r < 0 ? r : f->auditd_ok ? 0 : -ECONNREFUSED;
}

void setup_stop_auditd(struct fleet *f) {
        if (f->auditd > 0) {
                kill(f->auditd, SIGTERM);
                for (int i = 0; i < 200; i++) {
                        if (waitpid(f->auditd, NULL, WNOHANG) == f->auditd) {
                                f->auditd = 0;
                                return;
                        }
                        poll(NULL, 0, 10);
                }
                kill(f->auditd, SIGKILL);
                waitpid(f->auditd, NULL, 0);
                f->auditd = 0;
        }
        proxy_close(&f->proxy);
}
