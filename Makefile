# adminapp: `make run` serves the app on the local emulators; `make test`
# runs every test. Both install what they need first (idempotent).

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP_VERSION := 26.3

.PHONY: help install catalogs translations settings-docs permissions-docs run test test-fast test-products lint bench bench-tools redis screenshots chromium fonts clean \
	image image-tools image-test deploy

help:
	@echo "make run    serve http://localhost:5000/admin/ on the local emulators"
	@echo "make test   run the whole test suite (browser tests included)"
	@echo "make test-fast  the unit tests only: no emulators, no browser (docs/testing.md)"
	@echo "make test-products  install adminapp and examples/notes in a fresh venv, run the product's tests (part of make test)"
	@echo "make lint   ruff checks (also part of make test)"
	@echo "make bench  measure the gate under load (emulators, gunicorn, wrk; ~6 minutes)"
	@echo "make translations  extract new strings, update every catalog, compile (docs/languages.md)"
	@echo "make settings-docs  write docs/configuration.md's tables and .env.example from the settings"
	@echo "make permissions-docs  write the docs' table of permissions from their declarations"
	@echo "make image       build the container image with buildah (as root; docs/deploy.md)"
	@echo "make image-test  build it and run it against the emulators (CI runs it after make test)"
	@echo "make deploy      deploy to Cloud Run behind Firebase Hosting (scripts/deploy.sh)"

install: $(VENV)/.installed node_modules/.installed catalogs

# Translation catalogs (docs/languages.md). The .po files
# are the source, committed; the .mo files are built here (and by the app at
# start-up when missing or stale), never committed.
CATALOGS := adminapp/translations
PYBABEL := $(VENV)/bin/pybabel
MO_FILES := $(patsubst %.po,%.mo,$(wildcard $(CATALOGS)/*/LC_MESSAGES/messages.po))

catalogs: $(MO_FILES)

$(CATALOGS)/%/LC_MESSAGES/messages.mo: $(CATALOGS)/%/LC_MESSAGES/messages.po $(VENV)/.installed
	$(PYBABEL) compile --statistics -l $* -i $< -o $@

# After adding or changing strings (or merging branches that did): extract
# every marked string into messages.pot, merge it into each catalog (new
# strings arrive empty, changed ones fuzzy: translate them, then clear the
# flag), and compile. tests/unit/test_catalogs.py fails until every string
# is translated.
translations: $(VENV)/.installed
	$(PYBABEL) extract -F babel.cfg -k N_ -k _l --no-location --sort-output \
	  --project adminapp --copyright-holder "adminapp authors" -o $(CATALOGS)/messages.pot .
	$(PYBABEL) update -i $(CATALOGS)/messages.pot -d $(CATALOGS) --ignore-obsolete
	$(MAKE) catalogs

# After declaring or changing a setting (adminapp/config/declared.py): write
# docs/configuration.md's tables and .env.example from the declarations.
# tests/unit/test_settings_declared.py fails until they are written.
settings-docs: $(VENV)/.installed
	$(PY) -m devtools.settings_docs

# After declaring or changing a permission (adminapp/domain/permissions.py):
# write the docs' table of permissions from the declarations.
# tests/unit/test_permissions.py fails until it is written.
permissions-docs: $(VENV)/.installed
	$(PY) -m devtools.permissions_docs

$(VENV)/.installed: requirements.txt requirements-dev.txt constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check pip==$(PIP_VERSION)
	$(PY) -m pip install --quiet -r requirements-dev.txt -c constraints.txt
	touch $@

# .npmrc skips the optional packages (re2 would be compiled from C++).
node_modules/.installed: package.json package-lock.json .npmrc
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Debian's headless Chromium for the browser tests (Playwright's own download
# is not used): chromium-headless-shell, which costs the tests about half the
# CPU of the full browser (tests/browser/conftest.py). Needs root, as in CI;
# otherwise install the package yourself.
chromium:
	@command -v chromium-headless-shell >/dev/null 2>&1 || { \
	  echo "Installing Debian's chromium-headless-shell for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium-headless-shell; }

# Debian's redis-server for the multi-instance tests and make bench (shared rate
# limits, the session cache's invalidation channel).
redis:
	@command -v redis-server >/dev/null 2>&1 || { \
	  echo "Installing Debian's redis-server for the multi-instance tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server; }

# Debian's wrk (the load generator of make bench).
bench-tools:
	@command -v wrk >/dev/null 2>&1 || { \
	  echo "Installing Debian's wrk for make bench"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }

bench: install bench-tools redis
	$(PY) -m devtools.bench

run: install
	$(PY) -m devtools.run

lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

# The suite runs in parallel (pytest-xdist): each worker is its own process
# with its own emulators, Chromium and servers on free ports, so workers share
# nothing but the CPUs. One worker more than there are CPUs, as each waits on
# its emulators part of the time (measured in docs/testing.md).
# TEST_WORKERS=0 runs the suite in one process.
TEST_WORKERS ?= $(shell echo $$(( $$(nproc) + 1 )))
test: install chromium redis lint
	$(PY) -m pytest -n $(TEST_WORKERS)

# The example product as a user installs it (docs/extending.md): adminapp
# and examples/notes installed with pip into a fresh venv, then the
# product's own tests (tests/products; also part of make test).
test-products: install
	$(PY) -m pytest -q tests/products

# The unit tests alone (docs/testing.md): the rules on an in-memory Firestore,
# settings, catalogs, cookies; no emulator or browser. One file drives a real
# redis-server (the session cache's channel), hence redis.
test-fast: install redis
	$(PY) -m pytest tests/unit -q

# A Korean font for the Korean screenshots (Debian's fonts-nanum), else
# Chromium draws empty boxes. Needs root, like chromium.
fonts:
	@fc-list :lang=ko | grep -q . || { \
	  echo "Installing Debian's fonts-nanum for the Korean screenshots"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-nanum; }

# Refresh the docs' pictures (docs/screenshots) from the browser tests,
# in English and in Korean (ko-*.png, tests/browser/test_languages.py).
screenshots: install chromium fonts
	ADMINAPP_SCREENSHOTS=docs/screenshots $(PY) -m pytest tests/browser -q

# The container image (docs/deploy.md). The Dockerfile builds FROM
# python:3.11-slim; registries cannot be reached from every machine that
# builds it (CI's cannot), so here it builds FROM a Debian bookworm base that
# scripts/local-base-image.sh makes with debootstrap from Debian's mirror
# (once: it is cached in buildah's storage). buildah needs no daemon; chroot
# isolation needs no cgroups or user namespaces. Needs root, like chromium.
IMAGE ?= localhost/adminapp:latest
LOCAL_BASE_IMAGE := localhost/adminapp-base:bookworm
DEBIAN_MIRROR ?= http://deb.debian.org/debian
# This machine's CA bundle, mounted over the base's during the build's RUN
# steps only (never part of the image): pip then trusts what the host trusts,
# a TLS-inspecting proxy's CA included.
HOST_CA_BUNDLE := /etc/ssl/certs/ca-certificates.crt

image-tools:
	@command -v buildah >/dev/null 2>&1 && command -v debootstrap >/dev/null 2>&1 || { \
	  echo "Installing Debian's buildah and debootstrap for make image"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq buildah debootstrap; }

image: image-tools
	scripts/local-base-image.sh $(LOCAL_BASE_IMAGE) $(DEBIAN_MIRROR)
	buildah bud --isolation chroot --layers --pull=never \
	  --build-arg BASE_IMAGE=$(LOCAL_BASE_IMAGE) --build-arg PIP_VERSION=$(PIP_VERSION) \
	  --volume $(HOST_CA_BUNDLE):$(HOST_CA_BUNDLE):ro \
	  --tag $(IMAGE) .
	@buildah images --format 'Built {{.Name}}:{{.Tag}}: {{.Size}}' $(IMAGE)

# Runs the built image against the local emulators (tests/image). Not part of
# make test, which stays quick: .ci/run runs it after make test.
image-test: install image
	ADMINAPP_IMAGE=$(IMAGE) $(PY) -m pytest tests/image -q -p no:cacheprovider

# Cloud Run + Firebase Hosting (docs/deploy.md); scripts/deploy.sh --help
# lists its inputs, read from the environment. The project's pinned
# firebase-tools comes first on PATH.
deploy: install
	PATH="$(CURDIR)/node_modules/.bin:$$PATH" scripts/deploy.sh

clean:
	rm -rf $(VENV) node_modules .pytest_cache .hypothesis .test-logs .run-logs .bench-logs
