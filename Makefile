# The two commands: `make run` and `make test`. Each sets up what it needs by itself.
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python

.PHONY: run test lint venv clean image

$(VENV)/.installed: pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is needed ($(PYTHON) not found; set PYTHON=...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test]'
	@touch $@

venv: $(VENV)/.installed

## Runs the whole system at http://127.0.0.1:8000 (embedded; or on RabbitMQ/PostgreSQL when
## GONGKAO_AMQP_URI and the database URLs are set).
run: venv
	PYTHONWARNINGS=ignore $(PY) -m deploy.run

## Runs lint and the whole test suite against the real RabbitMQ and PostgreSQL on 127.0.0.1,
## a headless Chromium, and a smoke test of `make run`.
test: venv
	@scripts/test-prerequisites.sh
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	PYTHONWARNINGS=ignore $(PY) -m pytest

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

## Builds the image gongkao:<version> with podman, without an image registry: Debian bookworm's
## root file system (mmdebstrap, from Debian's packages) becomes the base image, then
## deploy/Dockerfile builds on it (pip reaches PyPI). Needs root, mmdebstrap and podman
## (apt-get install mmdebstrap podman). Not part of `make test`. PODMAN and IMAGE_BUILD_FLAGS
## carry what a particular machine needs (deploy/README.md).
IMAGE             ?= gongkao:$(shell sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml)
IMAGE_BASE        ?= localhost/gongkao-base:bookworm
PODMAN            ?= podman
IMAGE_BUILD_FLAGS ?=
image:
	@command -v mmdebstrap >/dev/null && command -v $(firstword $(PODMAN)) >/dev/null \
	  || { echo "make image needs mmdebstrap and podman: apt-get install mmdebstrap podman"; exit 1; }
	mkdir -p var/image
	mmdebstrap --variant=apt --include=python3,python3-venv,ca-certificates --format=tar \
	  bookworm var/image/rootfs.tar
	$(PODMAN) import --change 'CMD ["/bin/bash"]' var/image/rootfs.tar $(IMAGE_BASE)
	rm -f var/image/rootfs.tar
	$(PODMAN) build --format docker $(IMAGE_BUILD_FLAGS) --build-arg BASE=$(IMAGE_BASE) \
	  --ignorefile deploy/Dockerfile.dockerignore -f deploy/Dockerfile -t $(IMAGE) .

clean:
	rm -rf $(VENV) var
