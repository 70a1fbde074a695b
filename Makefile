# sealrun build: plain make, every output under build/.
# Sources are picked up by directory so that adding a module needs no edit here:
#   policy/*.c            -> build/libpolicy.a      (parsers, formats, utilities)
#   launcher/*.c          -> build/liblauncher.a + build/sealrun (main.c)
#   helpers/<dir>/*.c     -> build/<binary>  (sealctl, sealrun-auditd, ...)
#   tests/test_*.c        -> build/tests/test_* (cmocka, ASan+UBSan)
#   integration/*.c       -> build/integration/* (probe, escape suite, ...)

comma      := ,
PREFIX     ?= /usr/local
DESTDIR    ?=
BUILD      ?= build
CC         ?= cc
PKGS       := libseccomp libcap libsodium libnl-3.0 libnl-route-3.0 jansson libssl libcrypto
VERSION    := 0.1.0

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CMOCKA_LIBS:= $(shell pkg-config --libs cmocka 2>/dev/null)

WARN      := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wno-unused-parameter -Wno-format-truncation
HARDEN    := -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE -fstack-clash-protection
BASEFLAGS := -std=gnu11 -D_GNU_SOURCE -I. $(WARN) $(PKG_CFLAGS) \
             -DSEALRUN_VERSION='"$(VERSION)"' -DSEALRUN_DATADIR='"$(PREFIX)/share/sealrun"'
CFLAGS    ?= -O2 -g
ALL_CFLAGS = $(BASEFLAGS) $(HARDEN) $(CFLAGS)
LDFLAGS_H := -pie -Wl,-z,relro,-z,now -Wl,-z,noexecstack
SAN       := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

POLICY_SRC   := $(wildcard policy/*.c)
LAUNCHER_SRC := $(filter-out launcher/main.c,$(wildcard launcher/*.c))
HELPERS      := $(sort $(notdir $(patsubst %/,%,$(dir $(wildcard helpers/*/*.c)))))
HELPER_BIN   := $(foreach h,$(HELPERS),$(BUILD)/$(if $(filter sealctl,$(h)),sealctl,sealrun-$(h)))
TEST_SRC     := $(wildcard tests/test_*.c)
ITEST_SRC    := $(wildcard integration/*.c) $(wildcard integration/escape/*.c)

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))
sobj = $(patsubst %.c,$(BUILD)/san/%.o,$(1))

.PHONY: all deps check unit integration demo install clean fuzz bench leak-test vm-check helpers lint format
all: $(BUILD)/sealrun $(HELPER_BIN) $(BUILD)/libpolicy.a $(BUILD)/liblauncher.a itest-bins

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/san/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC-SAN  $<"
	@$(CC) $(BASEFLAGS) -O1 -g $(SAN) -MMD -MP -c $< -o $@

$(BUILD)/libpolicy.a: $(call obj,$(POLICY_SRC))
	@rm -f $@; ar rcs $@ $^
$(BUILD)/liblauncher.a: $(call obj,$(LAUNCHER_SRC))
	@rm -f $@; ar rcs $@ $^
$(BUILD)/san/libpolicy.a: $(call sobj,$(POLICY_SRC))
	@rm -f $@; ar rcs $@ $^
$(BUILD)/san/liblauncher.a: $(call sobj,$(LAUNCHER_SRC))
	@rm -f $@; ar rcs $@ $^

# The stock seccomp profile compiled to BPF at build time by the same code
# sealrun runs (launcher/seccomp_embed.c); SECCOMP_EMBED=0 (a cross build)
# leaves it out and sealrun compiles the stock profile at run time.
SECCOMP_EMBED ?= 1
EMBED_OBJ  := $(if $(filter 1,$(SECCOMP_EMBED)),$(BUILD)/obj/gen/seccomp_stock_bpf.o)
EMBED_SOBJ := $(if $(filter 1,$(SECCOMP_EMBED)),$(BUILD)/san/gen/seccomp_stock_bpf.o)
$(BUILD)/seccomp-embed: launcher/gen/seccomp-embed.c $(BUILD)/liblauncher.a $(BUILD)/libpolicy.a
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(PKG_LIBS)
$(BUILD)/gen/seccomp_stock_bpf.c: $(BUILD)/seccomp-embed
	@mkdir -p $(dir $@)
	$(BUILD)/seccomp-embed > $@.tmp && mv $@.tmp $@
$(BUILD)/obj/gen/seccomp_stock_bpf.o: $(BUILD)/gen/seccomp_stock_bpf.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@
$(BUILD)/san/gen/seccomp_stock_bpf.o: $(BUILD)/gen/seccomp_stock_bpf.c
	@mkdir -p $(dir $@)
	$(CC) $(BASEFLAGS) -O1 -g $(SAN) -MMD -MP -c $< -o $@

# STATIC_DEPS=1 links sealrun's libraries (libseccomp, libcap, libsodium,
# libnl, jansson) statically, libc stays shared; STATIC_DEPS=full makes a
# static PIE, libc too (sealrun resolves no names through NSS; the linker's
# getaddrinfo warnings are about libnl functions it never calls). Measured
# per launch (README, Performance): 1 saves 0.4 ms CPU and 0.6 MB peak RSS,
# full another 0.2 ms and 0.6 MB.
STATIC_DEPS ?= 0
STATIC_LIBS  := $(filter-out -lpthread -ldl -lm,$(shell pkg-config --static --libs-only-l $(PKGS) 2>/dev/null))
SEALRUN_LIBS := $(if $(filter 1,$(STATIC_DEPS)),-Wl$(comma)-Bstatic $(STATIC_LIBS) -Wl$(comma)-Bdynamic -pthread,$(if $(filter full,$(STATIC_DEPS)),-static-pie $(STATIC_LIBS) -pthread,$(PKG_LIBS)))

# The TLS broker, sealrun's only user of OpenSSL, as a shared object embedded
# in sealrun and loaded only by a task in proxy mode with a profile
# (launcher/tls.h): the other launches never map libssl or libcrypto.
# TLS_PLUGIN=0, and every STATIC_DEPS build, link the broker in instead.
TLS_PLUGIN  ?= $(if $(filter 0,$(STATIC_DEPS)),1,0)
TLS_SRC     := launcher/broker_ca.c launcher/broker_tls.c launcher/broker_mem.c policy/broker_http.c launcher/tls/entry.c
# what the broker calls in sealrun itself, exported from the executable
TLS_EXPORTS := sr_fail secmem_mlock testhook_armed testhook_hold egress_host_canon pol_egress_passthrough \
               egress_http_field egress_http_head_end egress_http_tchar
pobj = $(patsubst %.c,$(BUILD)/pic/%.o,$(1))
$(BUILD)/pic/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC-PIC  $<"
	@$(CC) $(BASEFLAGS) $(filter-out -fPIE,$(HARDEN)) -fPIC -fvisibility=hidden $(CFLAGS) -MMD -MP -c $< -o $@
$(BUILD)/sealrun-tls.so: $(call pobj,$(TLS_SRC))
	$(CC) -shared -Wl,-z,relro,-z,now -Wl,-z,noexecstack -o $@ $^ $(shell pkg-config --libs libssl libcrypto libsodium 2>/dev/null) -pthread
	@for s in $$(nm -D --undefined-only $@ | awk '$$1 == "U" && $$2 !~ /@|^sodium_/ { print $$2 }'); do \
	        case " $(TLS_EXPORTS) " in *" $$s "*) ;; \
	        *) echo "$@: the broker calls $$s, which is not in TLS_EXPORTS" >&2; rm -f $@; exit 1;; esac; done
$(BUILD)/gen/tls_blob.S: Makefile
	@mkdir -p $(dir $@)
	@printf '%s\n' '.section .rodata' '.balign 64' '.globl sealrun_tls_so' '.hidden sealrun_tls_so' 'sealrun_tls_so:' \
	        '.incbin "$(BUILD)/sealrun-tls.so"' '.globl sealrun_tls_so_end' '.hidden sealrun_tls_so_end' 'sealrun_tls_so_end:' \
	        '.section .note.GNU-stack,"",@progbits' > $@
$(BUILD)/obj/gen/tls_blob.o: $(BUILD)/gen/tls_blob.S $(BUILD)/sealrun-tls.so
	@mkdir -p $(dir $@)
	$(CC) -c -o $@ $<
$(BUILD)/gen/tls-exports.list: Makefile
	@mkdir -p $(dir $@)
	@printf '{ %s };\n' "$(foreach s,$(TLS_EXPORTS),$(s);)" > $@
TLS_OBJ     := $(if $(filter 1,$(TLS_PLUGIN)),$(call obj,launcher/tls/load.c) $(BUILD)/obj/gen/tls_blob.o)
TLS_LDFLAGS := $(if $(filter 1,$(TLS_PLUGIN)),-Wl$(comma)--dynamic-list=$(BUILD)/gen/tls-exports.list \
               $(addprefix -Wl$(comma)--require-defined=,$(TLS_EXPORTS)))
RUN_LIBS    := $(if $(filter 1,$(TLS_PLUGIN)),$(shell pkg-config --libs $(filter-out libssl libcrypto,$(PKGS)) 2>/dev/null) -ldl,$(SEALRUN_LIBS))
$(BUILD)/sealrun: $(call obj,launcher/main.c) $(TLS_OBJ) $(EMBED_OBJ) $(BUILD)/liblauncher.a $(BUILD)/libpolicy.a \
                  $(if $(filter 1,$(TLS_PLUGIN)),$(BUILD)/gen/tls-exports.list)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS_H) $(TLS_LDFLAGS) -o $@ $(filter-out %.list,$^) $(RUN_LIBS)
$(BUILD)/san/sealrun: $(call sobj,launcher/main.c) $(EMBED_SOBJ) $(BUILD)/san/liblauncher.a $(BUILD)/san/libpolicy.a
	$(CC) $(BASEFLAGS) $(SAN) -o $@ $^ $(PKG_LIBS)

define helper_rule
$(1): $$(call obj,$$(wildcard helpers/$(2)/*.c)) $(BUILD)/libpolicy.a
	$$(CC) $$(ALL_CFLAGS) $$(LDFLAGS_H) -o $$@ $$^ $$(PKG_LIBS) $$(HELPER_LIBS)
endef
# sealctl parses a binding's ca_pem with OpenSSL (libcrypto; sealrun links libssl for the broker too)
$(BUILD)/sealctl: HELPER_LIBS := $(shell pkg-config --libs libcrypto 2>/dev/null)
$(foreach h,$(HELPERS),$(eval $(call helper_rule,$(BUILD)/$(if $(filter sealctl,$(h)),sealctl,sealrun-$(h)),$(h))))

# Unit tests: every test links both libraries, sanitizer build. The .d file
# (-MMD) lists the headers and the helpers' .c files a test #includes.
$(BUILD)/tests/%: tests/%.c $(EMBED_SOBJ) $(BUILD)/san/liblauncher.a $(BUILD)/san/libpolicy.a
	@mkdir -p $(dir $@)
	$(CC) $(BASEFLAGS) -O1 -g $(SAN) -MMD -MP -MF $@.d -MT $@ -o $@ $< $(EMBED_SOBJ) $(BUILD)/san/liblauncher.a $(BUILD)/san/libpolicy.a $(PKG_LIBS) $(CMOCKA_LIBS)

# Integration helper programs (probe, escape suite): static where possible so
# they run in a sandbox that shows only /usr.
$(BUILD)/integration/%: integration/%.c
	@mkdir -p $(dir $@)
	$(CC) $(BASEFLAGS) -O2 -MMD -MP -MF $@.d -MT $@ -o $@ $<
$(BUILD)/integration/broker_bench $(BUILD)/integration/vmhttp: $(BUILD)/integration/%: integration/%.c
	@mkdir -p $(dir $@)
	$(CC) $(BASEFLAGS) -O2 -o $@ $< $(shell pkg-config --libs libssl libcrypto 2>/dev/null)
$(BUILD)/integration/escape: $(wildcard integration/escape/*.c integration/escape/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(BASEFLAGS) -O2 -o $@ $(filter %.c,$^)

ITEST_BIN := $(patsubst integration/%.c,$(BUILD)/integration/%,$(wildcard integration/*.c)) \
             $(if $(wildcard integration/escape/*.c),$(BUILD)/integration/escape)
.PHONY: itest-bins
itest-bins: $(ITEST_BIN)

UNIT_BIN := $(patsubst tests/%.c,$(BUILD)/tests/%,$(TEST_SRC))

deps:
	@sh ./.ci/deps.sh

# docs/reasons.md from the one table of reason codes (policy/reasons.c)
reasons-doc: $(BUILD)/tests/test_reasons
	$(BUILD)/tests/test_reasons --doc > docs/reasons.md

unit: $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do echo "== $$t"; ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 $$t; done

integration: all $(BUILD)/san/sealrun
	@sh ./integration/run.sh

# Skipped tests (unit and integration) are logged here; integration/run.sh
# ends with a one-line count of them and their reasons.
CHECK_SKIPS = $(abspath $(BUILD))/check/skips.log
check: deps
	@sh ./integration/format.sh lint
	@$(MAKE) --no-print-directory all
	@mkdir -p $(dir $(CHECK_SKIPS)) && : > $(CHECK_SKIPS)
	@SEALRUN_SKIP_LOG=$(CHECK_SKIPS) $(MAKE) --no-print-directory unit
	@sh ./tests/fuzz/run.sh 5
	@SEALRUN_SKIP_LOG=$(CHECK_SKIPS) $(MAKE) --no-print-directory integration

# clang-format --dry-run over the files .clang-format-files lists; format: the whole tree, then lint all of it
lint:
	@sh ./integration/format.sh lint

format:
	@sh ./integration/format.sh format

demo: deps
	@$(MAKE) --no-print-directory all
	@sh ./integration/demo.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/sealrun/policy $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 0755 $(BUILD)/sealrun $(HELPER_BIN) $(DESTDIR)$(PREFIX)/bin/
	install -m 0644 policy/stock/*.json $(DESTDIR)$(PREFIX)/share/sealrun/policy/
	$(if $(wildcard man/*.1),install -m 0644 man/*.1 $(DESTDIR)$(PREFIX)/share/man/man1/)
	$(if $(wildcard man/*.8),install -d $(DESTDIR)$(PREFIX)/share/man/man8 && install -m 0644 man/*.8 $(DESTDIR)$(PREFIX)/share/man/man8/)
	@# systemd units (ExecStart= follows PREFIX), sysusers.d, the pool setup script, an empty audit allow map,
	@# and every directory docs/operations.md uses (t-install.sh checks the tree against that list)
	install -d $(DESTDIR)$(PREFIX)/lib/systemd/system $(DESTDIR)$(PREFIX)/lib/sysusers.d $(DESTDIR)$(PREFIX)/sbin \
	  $(DESTDIR)/etc/sealrun $(DESTDIR)/etc/sealrun/issuers $(DESTDIR)/etc/sealrun/pools $(DESTDIR)/etc/sysusers.d
	install -d -m 0700 $(DESTDIR)/etc/credstore.encrypted $(DESTDIR)/etc/credstore
	for u in systemd/*.service systemd/*.socket; do \
	  sed 's,/usr/local/bin/,$(PREFIX)/bin/,g' $$u > $(DESTDIR)$(PREFIX)/lib/systemd/system/$${u#systemd/} && \
	  chmod 0644 $(DESTDIR)$(PREFIX)/lib/systemd/system/$${u#systemd/} || exit 1; done
	install -m 0644 systemd/sealrun.sysusers.conf $(DESTDIR)$(PREFIX)/lib/sysusers.d/sealrun.conf
	install -m 0755 helpers/pool/sealrun-pool-init $(DESTDIR)$(PREFIX)/sbin/
	[ -e $(DESTDIR)/etc/sealrun/audit-allow.json ] || install -m 0644 systemd/audit-allow.json $(DESTDIR)/etc/sealrun/
	@# AppArmor profile granting user namespaces (Ubuntu 23.10+), only where the target has /etc/apparmor.d
	if [ -d $(DESTDIR)/etc/apparmor.d ]; then \
	  sed 's,/usr/local/bin/sealrun,$(PREFIX)/bin/sealrun,' policy/apparmor/sealrun > $(DESTDIR)/etc/apparmor.d/sealrun && \
	  chmod 0644 $(DESTDIR)/etc/apparmor.d/sealrun && echo "load it: apparmor_parser -r /etc/apparmor.d/sealrun"; fi

# ARGS go to the normal run (make leak-test ARGS="--json --junit leak.xml");
# the self-test's table goes to stderr so that stdout is the one report.
leak-test: all
	@$(BUILD)/sealrun-leaktest --self-test >&2 && $(BUILD)/sealrun-leaktest $(ARGS)

vm-check: all $(BUILD)/tests/test_cgroup
	@sh ./integration/vm/run.sh
	@sh ./integration/vm-systemd/run.sh

fuzz:
	@sh ./tests/fuzz/run.sh $(or $(FUZZ_SECONDS),60)

bench: all
	@sh ./integration/bench.sh

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# The stock seccomp profile is compiled in with .incbin (policy/pol_seccomp_stock.c).
$(BUILD)/obj/policy/pol_seccomp_stock.o $(BUILD)/san/policy/pol_seccomp_stock.o: policy/stock/seccomp-default.json

# The audit fault suite at full counts (root for the ENOSPC class); prints the table docs/audit.md quotes.
.PHONY: soak
soak: all
	@SEALRUN_SRC=$(CURDIR) SEALRUN_BUILD=$(CURDIR)/$(BUILD) sh integration/soak.sh
