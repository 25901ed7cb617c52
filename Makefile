# pharos — one non-recursive Makefile.
#
#   make run    install missing Debian packages (when root), build, run on
#               packaging/quickstart.conf
#   make test   install what the tests need, build, run unit tests (plain and
#               under ASan+UBSan), fuzz corpora replay and end-to-end tests
#   make fuzz   build the libFuzzer targets (clang) and fuzz each for FUZZ_SECONDS

VERSION    := 0.1.0
CC         ?= cc
PREFIX     ?= /usr/local
DESTDIR    ?=
BUILD      ?= build

PKGS       := libcurl libcares libmicrohttpd sqlite3 libpq libconfig jansson libssl libcrypto libpcre2-8 zlib
WARNINGS   := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
              -Wno-unused-parameter
CPPFLAGS   += -D_GNU_SOURCE -DPHAROS_VERSION='"$(VERSION)"' -iquote . -iquote agent
CFLAGS     ?= -O2 -g
override CFLAGS += -std=c11 $(WARNINGS) $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS     += $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread -lm

# SANITIZE=address,undefined builds everything into build-san/ with sanitizers.
ifneq ($(SANITIZE),)
BUILD      := build-san
override CFLAGS += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
override LDFLAGS += -fsanitize=$(SANITIZE)
endif

# The layers (docs/architecture.md): agent/core, probes, alerts, agent/conf,
# agent/store, agent/web, dashboards, and agent/ itself on top. Every .c in them
# is part of the agent; main.c holds only the command line, so the unit tests
# link against everything else.
SRC_DIRS   := agent/core probes alerts agent/conf agent/store agent/web dashboards agent
LIB_SRC    := $(filter-out agent/main.c,$(wildcard $(SRC_DIRS:%=%/*.c)))
HEADERS    := $(wildcard $(SRC_DIRS:%=%/*.h))
LIB_OBJ    := $(LIB_SRC:%.c=$(BUILD)/%.o)
ASSET_SRC  := $(wildcard dashboards/*.html dashboards/*.css dashboards/*.js dashboards/*.svg)
UNIT_SRC   := $(wildcard tests/unit/test_*.c)
UNIT_BIN   := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
FUZZ_SRC   := $(wildcard tests/fuzz/fuzz_*.c)

.PHONY: all run test unit unit-san e2e fuzz fuzz-replay deps test-deps clean install uninstall bench deb layers

all: pharos

pharos: $(BUILD)/pharos
	cp $< $@.tmp && mv -f $@.tmp $@    # mv: works while an old ./pharos runs

$(BUILD)/pharos: $(BUILD)/agent/main.o $(BUILD)/libpharos.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/libpharos.a: $(LIB_OBJ) $(BUILD)/assets.o
	rm -f $@
	ar rcs $@ $^

# The status page's files (dashboards/) as C arrays: dashboards/assets.h.
$(BUILD)/assets.c: scripts/embed-assets $(ASSET_SRC)
	@mkdir -p $(dir $@)
	scripts/embed-assets $@ $(ASSET_SRC)

$(BUILD)/assets.o: $(BUILD)/assets.c dashboards/assets.h
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD)/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c $(wildcard tests/unit/*.h) $(BUILD)/libpharos.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -iquote tests/unit $(LDFLAGS) -o $@ $< $(BUILD)/libpharos.a $(LDLIBS) -lcmocka

# --- set-up --------------------------------------------------------------------
deps:
	@scripts/install-deps run

test-deps:
	@scripts/install-deps test

# --- run -----------------------------------------------------------------------
# The flags come from pkg-config, which may itself be among the packages deps
# installs: build in a fresh make that reads them once the packages are there.
run: deps
	@$(MAKE) --no-print-directory pharos
	./pharos run -c packaging/quickstart.conf

# --- tests ---------------------------------------------------------------------
# One step after the other (the e2e tests' time bounds share no core with a
# compiler), each step building on every core.
TEST_JOBS ?= $(shell nproc 2>/dev/null || echo 2)
test: test-deps
	@for step in pharos layers unit unit-san fuzz-replay e2e; do \
		$(MAKE) --no-print-directory -j$(TEST_JOBS) $$step || exit 1; \
	done

unit: $(UNIT_BIN)
	@scripts/run-unit $(UNIT_BIN)

unit-san:
	$(MAKE) --no-print-directory SANITIZE=address,undefined CFLAGS="-O1 -g" unit

e2e: pharos
	@scripts/run-e2e

# Fuzz targets: libFuzzer with clang for `make fuzz`; for the corpus replay in
# `make test` the same targets are linked with a small main() that feeds every
# corpus file once, built with the sanitizers.
FUZZ_SECONDS ?= 60
fuzz:
	@scripts/fuzz build $(FUZZ_SECONDS)

fuzz-replay:
	@scripts/fuzz replay

# The include graph against the layers (docs/architecture.md): cycles (through
# includes, and through calls between the objects just built), upward
# includes, type branches outside the tables, files over 800 lines. Part of
# `make test`, so a new cycle fails CI.
layers: pharos
	@scripts/check-layers --objects $(BUILD)

bench: pharos
	@bench/http-probes

clean:
	rm -rf build build-san build-fuzz pharos

# --- install and package (packaging/, scripts/build-deb) -----------------------
#   make install [PREFIX=/usr/local] [DESTDIR=]   binary, man pages, examples
#   make uninstall                                 removes what install put there
#   make deb                                       build/pharos_VERSION-1_ARCH.deb
MANDIR     ?= $(PREFIX)/share/man
DOCDIR     ?= $(PREFIX)/share/doc/pharos

install: pharos
	install -D -m 0755 pharos $(DESTDIR)$(PREFIX)/bin/pharos
	install -D -m 0644 packaging/pharos.1 $(DESTDIR)$(MANDIR)/man1/pharos.1
	install -D -m 0644 packaging/pharos.conf.5 $(DESTDIR)$(MANDIR)/man5/pharos.conf.5
	install -D -m 0644 packaging/pharos.conf $(DESTDIR)$(DOCDIR)/examples/pharos.conf
	install -D -m 0644 packaging/pharos.service $(DESTDIR)$(DOCDIR)/examples/pharos.service

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/pharos $(DESTDIR)$(MANDIR)/man1/pharos.1 \
	      $(DESTDIR)$(MANDIR)/man5/pharos.conf.5 $(DESTDIR)$(DOCDIR)/examples/pharos.conf \
	      $(DESTDIR)$(DOCDIR)/examples/pharos.service
	-rmdir $(DESTDIR)$(DOCDIR)/examples $(DESTDIR)$(DOCDIR) 2>/dev/null

# The packaged binary is built apart (build/deb/) with Debian's hardening
# flags (dpkg-buildflags: fortify, stack protector, relro, and bindnow, which
# Debian leaves out by default: hardening=+bindnow gives -z now).
DEB_BUILD  := $(BUILD)/deb
DEB_FLAGS  := DEB_BUILD_MAINT_OPTIONS=hardening=+bindnow dpkg-buildflags
deb:
	env CFLAGS="$$($(DEB_FLAGS) --get CFLAGS 2>/dev/null || echo -O2 -g)" \
	    CPPFLAGS="$$($(DEB_FLAGS) --get CPPFLAGS 2>/dev/null)" \
	    LDFLAGS="$$($(DEB_FLAGS) --get LDFLAGS 2>/dev/null || echo -Wl,-z,relro -Wl,-z,now)" \
	    $(MAKE) --no-print-directory BUILD=$(DEB_BUILD) SANITIZE= $(DEB_BUILD)/pharos
	scripts/build-deb $(DEB_BUILD)/pharos $(BUILD) $(VERSION)

# For scripts: the flags the objects are built with.
print-cflags:
	@echo $(CPPFLAGS) $(filter-out -Werror -O2 -O1 -g,$(CFLAGS)) -Werror=implicit-function-declaration -iquote tests/fuzz
print-ldlibs:
	@echo $(LDLIBS)
