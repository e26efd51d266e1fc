# adminapp's container image: gunicorn serving wsgi:app on $PORT, as Cloud Run
# runs it (docs/deploy.md).
#
#   docker build -t adminapp .          # FROM python:3.11-slim, the real-world build
#   make image                          # the same file, built here with buildah
#
# The base is a build argument so that `make image` can build on a machine
# that cannot pull from a registry: it passes a Debian bookworm root file
# system it made itself (scripts/local-base-image.sh), with Debian's Python
# 3.11. Both bases are Debian bookworm with Python 3.11 and `python3`,
# `useradd` and the venv module, which is all this file uses.
ARG BASE_IMAGE=python:3.11-slim

# --- build: the virtual environment and the compiled catalogs -----------------
FROM ${BASE_IMAGE} AS build
# The pip that installs the packages (the Makefile's PIP_VERSION; make image
# passes it, tests/deploy/test_image_files.py keeps the default equal to it).
ARG PIP_VERSION=26.3
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_ROOT_USER_ACTION=ignore
RUN python3 -m venv /opt/venv \
 && /opt/venv/bin/pip install --quiet pip==${PIP_VERSION}
WORKDIR /src
# The runtime packages only: constraints.txt pins every transitive version
# (it also names the dev packages, which -c never installs).
COPY requirements.txt constraints.txt ./
RUN /opt/venv/bin/pip install --quiet -r requirements.txt -c constraints.txt
# The .mo files are built here, as `make catalogs` does (the .po files are
# the source; .dockerignore keeps the host's compiled ones out). In the image
# they are newer than their .po, so the app does not compile them again at
# start-up (adminapp/catalogs.py), which it could not do in place anyway: the
# app's files are read-only for the user it runs as.
COPY adminapp/translations adminapp/translations
RUN /opt/venv/bin/pybabel compile --statistics -d adminapp/translations
# pip, setuptools (which the venv module adds; nothing here needs it) and the
# activate scripts are not needed to serve.
RUN /opt/venv/bin/python -m pip uninstall --quiet --yes setuptools pip \
 && rm -f /opt/venv/bin/activate* /opt/venv/bin/Activate.ps1

# --- runtime -------------------------------------------------------------------
FROM ${BASE_IMAGE}
# A user with no home, no shell and no password, and a fixed numeric id
# above any the base image uses: USER names the number so that a platform can check "not root" without
# reading /etc/passwd (Kubernetes' runAsNonRoot does exactly that).
RUN useradd --uid 10001 --user-group --no-create-home \
      --home-dir /nonexistent --shell /usr/sbin/nologin adminapp
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
# Only what serving needs (.dockerignore admits nothing else into the build):
# no tests, devtools, scripts, examples, Node packages or .env. Owned by root
# and read-only for the app's user.
COPY wsgi.py gunicorn.conf.py ./
COPY templates templates
COPY adminapp adminapp
COPY --from=build /src/adminapp/translations adminapp/translations
# Byte-compile the app at build time: a cold start then reads .pyc files
# instead of compiling every module (the user cannot write __pycache__).
RUN /opt/venv/bin/python -m compileall -q /app
ENV PATH=/opt/venv/bin:$PATH \
    LANG=C.UTF-8 \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PORT=8080
USER 10001:10001
# Cloud Run sets PORT (8080 unless told otherwise); gunicorn.conf.py binds to
# it on every interface. --no-control-socket: gunicorn's control socket (for
# `gunicornc`) would go in $HOME, which this user has none of, and nobody can
# reach a Cloud Run instance's shell to use it; without the flag each worker
# start logs "Control server error: Permission denied" at ERROR.
EXPOSE 8080
CMD ["gunicorn", "-c", "gunicorn.conf.py", "--no-control-socket", "wsgi:app"]
