# One entry point for users and CI. Every target installs what it needs first.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
# The stamp names pyproject.toml's content, not its date: nbdev-export rewrites the file unchanged.
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
SYNTH ?= data/synth
N_TRAIN ?= 6705
N_TEST ?= 500

.PHONY: install demo test sync lab readme clean

install: $(STAMP)

# tinysoundfont declares pyaudio (which needs system headers to build) but renders without it: installed on its own, --no-deps.
$(STAMP):
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -e '.[dev]'
	$(BIN)/python -m pip install --no-deps tinysoundfont==0.3.7
	$(BIN)/python -m ipykernel install --sys-prefix --name irmas --display-name 'Python (irmas)'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

# Render the default dataset (kept when already there), fit the classical baseline, train the CPU preset, evaluate both
# (thresholds tuned on held-out songs, reports in models/<name>/report/), then write the demo model's submission.
demo: install
	$(BIN)/irmas_synth --out $(SYNTH) --n-train $(N_TRAIN) --n-test $(N_TEST)
	mkdir -p runs
	$(BIN)/papermill nbs/03a_baseline.ipynb runs/baseline.ipynb -k python3 --log-output -p data $(SYNTH)
	$(BIN)/papermill nbs/03_train.ipynb runs/demo.ipynb -k python3 --log-output -p data $(SYNTH) -p name demo
	$(BIN)/papermill nbs/04_evaluate.ipynb runs/baseline-report.ipynb -k python3 --log-output -p name baseline
	$(BIN)/papermill nbs/04_evaluate.ipynb runs/demo-report.ipynb -k python3 --log-output -p name demo
	$(BIN)/irmas_predict --model models/demo.pkl --audio $(SYNTH)/IRMAS-TestingData --out submissions/demo.csv --probs

# The library and README must be what the notebooks export, then the notebook tests, then the end-to-end tests.
sync: readme
	PATH=$(BIN):$$PATH $(BIN)/nbdev-export
	git diff --exit-code -- irmas/ README.md || (echo 'irmas/ or README.md differ from what nbs/ exports: run make sync and commit the result'; exit 1)

# Two notebook kernels on two cores: one torch thread each, since threads that outnumber the cores spin and run many times slower.
test: sync
	OMP_NUM_THREADS=1 PATH=$(BIN):$$PATH $(BIN)/nbdev-test --n-workers 2
	$(BIN)/python -m pytest -q

# README.md is written from nbs/index.ipynb (nbdev-readme would need Quarto, which pip cannot install).
readme: install
	$(BIN)/jupyter nbconvert --log-level=ERROR --to markdown nbs/index.ipynb --output-dir . --output README

lab: install
	$(BIN)/jupyter lab nbs/

clean:
	rm -rf $(VENV) _proc .pytest_cache
