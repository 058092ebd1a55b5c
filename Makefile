# warren: plain GNU Makefile.
#   make                 build bin/warrend and bin/warren
#   make check           install missing packages, build, run every test
#   make demo            install missing packages, build, show the main job
#   make deps            install the missing Debian packages that building
#                        and running need (check, bench and demo add theirs:
#                        scripts/deps.sh names the tiers)
#   make soak            long repeats: 100 duplex echo transfers, 3 runs of
#                        the timing-sensitive system tests, 1 GiB each way
#                        through 20 kills (25-soak-kills.t; CI runs it too)
#   make fuzz            run each libFuzzer target for FUZZ_SECONDS (default 20)
#   make bench           run the benchmarks in bench/ (run.sh, store.sh, resume.sh, redis.sh)
#   make noise-vectors VECTORS=FILE   check a Noise test-vector file
#   make install         bin/ and man pages into $(DESTDIR)$(PREFIX) (/usr/local),
#                        the systemd unit into $(UNITDIR), example configs
#                        into $(SYSCONFDIR)/warren (never over a file there)
#   make deb             build/warren_VERSION_ARCH.deb (scripts/mkdeb.sh)
#   make agent-portable  build the client agent as on macOS or a BSD: POSIX
#                        flags, no _GNU_SOURCE, only AGENT_SRC (make check
#                        runs it)
# Options: CC=clang, SANITIZE=1 (ASan+UBSan).

CC ?= cc
SANITIZE ?=
UNAME_S := $(shell uname -s)
# What only warrend links from src/ (Linux only, or of no use to the
# agent); the client agent (bin/warren) may use all the rest, which must
# be portable (Linux-only calls go through src/compat.h).  make
# agent-portable checks that AGENT_SRC builds and links alone with POSIX
# flags: a new server-only module goes into SERVER_SRC.
SERVER_SRC := $(addprefix src/,grant_bpf.c grant_filter.c idmap.c limit.c sockq.c \
    store.c store_lmdb.c store_mem.c)
AGENT_SRC := $(filter-out $(SERVER_SRC),$(wildcard src/*.c))
# The agent's feature flags off Linux (and for make agent-portable):
# POSIX.1-2008 with its XSI option (realpath); macOS also needs
# _DARWIN_C_SOURCE and FreeBSD __BSD_VISIBLE, or the system headers hide
# what libuv's and OpenSSL's headers use.
PORTABLE_CPPFLAGS := -D_POSIX_C_SOURCE=200809L -D_XOPEN_SOURCE=700
ifeq ($(UNAME_S),Darwin)
PORTABLE_CPPFLAGS += -D_DARWIN_C_SOURCE
endif
ifeq ($(UNAME_S),FreeBSD)
PORTABLE_CPPFLAGS += -D__BSD_VISIBLE=1
endif
ifeq ($(UNAME_S),Linux)
PKGS := libcrypto libuv inih lmdb
CPPFLAGS += -D_GNU_SOURCE -Isrc
else
# Off Linux only the client agent builds (warrend is Linux only).
PKGS := libcrypto libuv inih
CPPFLAGS += $(PORTABLE_CPPFLAGS) -Isrc
endif
CFLAGS ?= -O2 -g
CFLAGS += -std=c11 -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter -pthread
LDLIBS += $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lcrypto -luv -linih -llmdb)
# sd_notify (cmd/warrend/notify.c): warrend only, never the agent.
WARREND_LDLIBS := $(shell pkg-config --libs libsystemd 2>/dev/null || echo -lsystemd)

ifeq ($(SANITIZE),1)
CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
VARIANT := $(notdir $(CC))-san
else
VARIANT := $(notdir $(CC))
endif

B := build/$(VARIANT)
# Relink bin/ whenever the variant changes (CC or SANITIZE).
$(shell mkdir -p build; echo $(VARIANT) | cmp -s - build/variant || echo $(VARIANT) > build/variant)

ifeq ($(UNAME_S),Linux)
LIB_SRC := $(wildcard src/*.c)
else
LIB_SRC := $(AGENT_SRC)
endif
LIB_OBJ := $(LIB_SRC:%.c=$(B)/%.o)
WARREND_OBJ := $(patsubst %.c,$(B)/%.o,$(wildcard cmd/warrend/*.c))
WARREN_OBJ := $(patsubst %.c,$(B)/%.o,$(wildcard cmd/warren/*.c))
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)

.PHONY: all agent-portable deps deps-check deps-bench deps-demo check unit system soak vectors demo fuzz fuzz-build bench noise-vectors install deb clean
ifeq ($(UNAME_S),Linux)
all: bin/warrend bin/warren
else
all: bin/warren
endif

$(B)/%.o: %.c $(wildcard src/*.h cmd/*/*.h) Makefile
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(B)/libwarren.a: $(LIB_OBJ)
	rm -f $@ && ar rcs $@ $^

bin/warrend: $(WARREND_OBJ) $(B)/libwarren.a build/variant
	@mkdir -p bin
	$(CC) $(LDFLAGS) -o $@ $(WARREND_OBJ) $(B)/libwarren.a $(LDLIBS) $(WARREND_LDLIBS)

bin/warren: $(WARREN_OBJ) $(B)/libwarren.a build/variant
	@mkdir -p bin
	$(CC) $(LDFLAGS) -o $@ $(WARREN_OBJ) $(B)/libwarren.a $(LDLIBS)

$(B)/tests/%: tests/unit/%.c $(B)/libwarren.a $(wildcard src/*.h) Makefile
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(B)/libwarren.a $(LDLIBS) -lcmocka

$(B)/noise-vectors: tests/vectors/noise_vectors.c $(B)/libwarren.a $(wildcard src/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(B)/libwarren.a $(LDLIBS) -ljansson

# The agent built from AGENT_SRC alone (no libwarren.a: a server-only
# module it came to need fails the link) with POSIX flags and without
# _GNU_SOURCE, as on macOS and the BSDs; and no Linux-only name in its
# code (string literals aside) outside src/compat.c.
PORTABLE_DIR := build/portable-$(notdir $(CC))
PORTABLE_OBJ := $(patsubst %.c,$(PORTABLE_DIR)/%.o,$(AGENT_SRC) $(wildcard cmd/warren/*.c))
LINUX_ONLY := SOCK_CLOEXEC|SOCK_NONBLOCK|accept4|pipe2|dup3|MSG_NOSIGNAL|SO_PEEK_OFF|SO_RCVBUFFORCE|SO_SNDBUFFORCE|SO_ATTACH_FILTER|TCP_INFO|SIOCINQ|SIOCOUTQ|IP_BIND_ADDRESS_NO_PORT|IP_RECVERR|TCP_USER_TIMEOUT|getrandom|epoll_|signalfd|eventfd|timerfd|program_invocation|linux/
$(PORTABLE_DIR)/%.o: %.c $(wildcard src/*.h cmd/*/*.h) Makefile
	@mkdir -p $(dir $@)
	$(CC) $(PORTABLE_CPPFLAGS) -Isrc -O2 -std=c11 -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter -pthread -c -o $@ $<
agent-portable: $(PORTABLE_OBJ)
	$(CC) -pthread -o $(PORTABLE_DIR)/warren $(PORTABLE_OBJ) \
	    $(shell pkg-config --libs libcrypto libuv inih 2>/dev/null || echo -lcrypto -luv -linih)
	$(PORTABLE_DIR)/warren --version
	@perl -ne '($$l = $$_) =~ s/"[^"]*"//g; if ($$l =~ m{\b($(LINUX_ONLY))}) { print "$$ARGV:$$.: $$_"; $$bad = 1 } close ARGV if eof; END { exit $$bad }' \
	    $(filter-out src/compat.c,$(AGENT_SRC)) cmd/warren/*.c || \
	    { echo "agent-portable: Linux-only names above (outside strings): use src/compat.h"; exit 1; }
	@echo "agent-portable: the client agent builds and links from AGENT_SRC alone with $(PORTABLE_CPPFLAGS), no _GNU_SOURCE"

deps:
	@sh scripts/deps.sh build
deps-check:
	@sh scripts/deps.sh check
deps-bench:
	@sh scripts/deps.sh bench
deps-demo:
	@sh scripts/deps.sh demo

check: deps-check
	$(MAKE) all
	$(MAKE) agent-portable
	$(MAKE) unit
	$(MAKE) vectors
	$(MAKE) system

unit: $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do echo "== $$t"; $$t; done

VECTORS ?= tests/vectors/snow.txt
vectors noise-vectors: $(B)/noise-vectors
	$(B)/noise-vectors $(VECTORS)

system: all
	prove -v tests/system/*.t

SOAK_RUNS ?= 3
soak: deps-check
	$(MAKE) all
	DUPLEX_RUNS=100 TEST_TIMEOUT=900 prove -v tests/system/15-duplex.t
	SOAK=1 prove -v tests/system/25-soak-kills.t
	sh scripts/repeat.sh $(SOAK_RUNS) tests/system/07-many.t \
	    tests/system/10-latency.t tests/system/12-caps.t \
	    tests/system/13-forged.t

demo: deps-demo
	$(MAKE) all
	sh examples/demo.sh

FUZZ_SECONDS ?= 20
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=build/fuzz/%)
FUZZ_CFLAGS := -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -D_GNU_SOURCE -Isrc -std=c11 -Wall -Wextra -Werror -Wno-unused-parameter
build/fuzz/%: tests/fuzz/%.c $(LIB_SRC) $(wildcard src/*.h tests/fuzz/*.h)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -o $@ $< $(LIB_SRC) $(LDLIBS)
fuzz-build: $(FUZZ_BIN)
fuzz: deps-check
	$(MAKE) fuzz-build
	@set -e; for f in $(FUZZ_BIN); do n=$$(basename $$f); mkdir -p build/fuzz/corpus/$$n; \
	  echo "== $$n for $(FUZZ_SECONDS) s"; \
	  if ! $$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 -artifact_prefix=build/fuzz/$$n- \
	      build/fuzz/corpus/$$n tests/fuzz/seeds/$$n > build/fuzz/$$n.log 2>&1; then \
	    tail -n 60 build/fuzz/$$n.log; echo "fuzz: $$n FAILED (log: build/fuzz/$$n.log)"; exit 1; fi; \
	  grep -E '^#[0-9]+ +DONE' build/fuzz/$$n.log | tail -n 1; tail -n 3 build/fuzz/$$n.log; done

bench: deps-bench
	$(MAKE) all
	sh bench/run.sh
	sh bench/store.sh
	sh bench/resume.sh
	sh bench/redis.sh

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
SYSCONFDIR ?= /etc
UNITDIR ?= /lib/systemd/system
SYSUSERSDIR ?= /usr/lib/sysusers.d
TMPFILESDIR ?= /usr/lib/tmpfiles.d
install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(PREFIX)/share/man/man1 \
	    $(DESTDIR)$(PREFIX)/share/man/man5 $(DESTDIR)$(PREFIX)/share/man/man8
	install -m 755 bin/warren bin/warrend $(DESTDIR)$(BINDIR)/
	install -m 644 docs/man/warren.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 644 docs/man/warren.conf.5 $(DESTDIR)$(PREFIX)/share/man/man5/
	install -m 644 docs/man/warrend.8 $(DESTDIR)$(PREFIX)/share/man/man8/
	install -d $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSUSERSDIR) \
	    $(DESTDIR)$(TMPFILESDIR) $(DESTDIR)$(SYSCONFDIR)/warren
	sed -e 's|@BINDIR@|$(BINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
	    dist/warrend.service.in > $(DESTDIR)$(UNITDIR)/warrend.service
	chmod 644 $(DESTDIR)$(UNITDIR)/warrend.service
	install -m 644 dist/warren.sysusers $(DESTDIR)$(SYSUSERSDIR)/warren.conf
	install -m 644 dist/warren.tmpfiles $(DESTDIR)$(TMPFILESDIR)/warren.conf
	@for f in warrend.conf client.conf.example; do \
	  if [ -e $(DESTDIR)$(SYSCONFDIR)/warren/$$f ]; then \
	    echo "install: $(DESTDIR)$(SYSCONFDIR)/warren/$$f exists: kept"; \
	  else install -m 644 dist/$$f $(DESTDIR)$(SYSCONFDIR)/warren/$$f; fi; \
	done
	@[ -n "$(DESTDIR)" ] || echo "install: next, as root: systemd-sysusers; \
	systemd-tmpfiles --create warren.conf; make a key (README, Running it \
	as a service); systemctl daemon-reload; systemctl enable --now warrend"

deb:
	sh scripts/mkdeb.sh

clean:
	rm -rf build bin
