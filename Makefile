# warren: plain GNU Makefile.
#   make                 build bin/warrend and bin/warren
#   make check           install missing packages, build, run every test
#   make demo            install missing packages, build, show the main job
#   make deps            install missing Debian packages
#   make soak            long repeats: 100 duplex echo transfers, 3 runs of
#                        the timing-sensitive system tests, 1 GiB each way
#                        through 20 kills (25-soak-kills.t; CI runs it too)
#   make fuzz            run each libFuzzer target for FUZZ_SECONDS (default 20)
#   make bench           run the benchmarks in bench/ (run.sh, store.sh, resume.sh)
#   make noise-vectors VECTORS=FILE   check a Noise test-vector file
#   make install         bin/ and man pages into $(DESTDIR)$(PREFIX) (/usr/local)
# Options: CC=clang, SANITIZE=1 (ASan+UBSan).

CC ?= cc
SANITIZE ?=
PKGS := libcrypto libuv inih lmdb
CPPFLAGS += -D_GNU_SOURCE -Isrc
CFLAGS ?= -O2 -g
CFLAGS += -std=c11 -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter -pthread
LDLIBS += $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lcrypto -luv -linih -llmdb)

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

LIB_SRC := $(wildcard src/*.c)
LIB_OBJ := $(LIB_SRC:%.c=$(B)/%.o)
WARREND_OBJ := $(patsubst %.c,$(B)/%.o,$(wildcard cmd/warrend/*.c))
WARREN_OBJ := $(patsubst %.c,$(B)/%.o,$(wildcard cmd/warren/*.c))
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)

.PHONY: all deps check unit system soak vectors demo fuzz fuzz-build bench noise-vectors install clean
all: bin/warrend bin/warren

$(B)/%.o: %.c $(wildcard src/*.h cmd/*/*.h) Makefile
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(B)/libwarren.a: $(LIB_OBJ)
	rm -f $@ && ar rcs $@ $^

bin/warrend: $(WARREND_OBJ) $(B)/libwarren.a build/variant
	@mkdir -p bin
	$(CC) $(LDFLAGS) -o $@ $(WARREND_OBJ) $(B)/libwarren.a $(LDLIBS)

bin/warren: $(WARREN_OBJ) $(B)/libwarren.a build/variant
	@mkdir -p bin
	$(CC) $(LDFLAGS) -o $@ $(WARREN_OBJ) $(B)/libwarren.a $(LDLIBS)

$(B)/tests/%: tests/unit/%.c $(B)/libwarren.a $(wildcard src/*.h) Makefile
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(B)/libwarren.a $(LDLIBS) -lcmocka

$(B)/noise-vectors: tests/vectors/noise_vectors.c $(B)/libwarren.a $(wildcard src/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(B)/libwarren.a $(LDLIBS) -ljansson

deps:
	@sh scripts/deps.sh

check: deps
	$(MAKE) all
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
soak: deps
	$(MAKE) all
	DUPLEX_RUNS=100 TEST_TIMEOUT=900 prove -v tests/system/15-duplex.t
	SOAK=1 prove -v tests/system/25-soak-kills.t
	sh scripts/repeat.sh $(SOAK_RUNS) tests/system/07-many.t \
	    tests/system/10-latency.t tests/system/12-caps.t \
	    tests/system/13-forged.t

demo: deps
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
fuzz: deps
	$(MAKE) fuzz-build
	@set -e; for f in $(FUZZ_BIN); do n=$$(basename $$f); mkdir -p build/fuzz/corpus/$$n; \
	  echo "== $$n for $(FUZZ_SECONDS) s"; \
	  if ! $$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 -artifact_prefix=build/fuzz/$$n- \
	      build/fuzz/corpus/$$n tests/fuzz/seeds/$$n > build/fuzz/$$n.log 2>&1; then \
	    tail -n 60 build/fuzz/$$n.log; echo "fuzz: $$n FAILED (log: build/fuzz/$$n.log)"; exit 1; fi; \
	  grep -E '^#[0-9]+ +DONE' build/fuzz/$$n.log | tail -n 1; tail -n 3 build/fuzz/$$n.log; done

bench: all
	sh bench/run.sh
	sh bench/store.sh
	sh bench/resume.sh

PREFIX ?= /usr/local
install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
	    $(DESTDIR)$(PREFIX)/share/man/man5 $(DESTDIR)$(PREFIX)/share/man/man8
	install -m 755 bin/warren bin/warrend $(DESTDIR)$(PREFIX)/bin/
	install -m 644 docs/man/warren.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 644 docs/man/warren.conf.5 $(DESTDIR)$(PREFIX)/share/man/man5/
	install -m 644 docs/man/warrend.8 $(DESTDIR)$(PREFIX)/share/man/man8/

clean:
	rm -rf build bin
