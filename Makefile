# Kefu: `make run` installs, seeds, trains (when needed) and starts the assistant;
# `make test` installs and runs the whole test suite. Everything else is a step of those.

VENV      := .venv
PY        := $(VENV)/bin/python
RASA      := $(VENV)/bin/rasa
STAMP     := $(VENV)/.kefu-installed
MODEL     := models/kefu.tar.gz
TRAINING  := config.yml domain.yml $(shell find data -name '*.yml' 2>/dev/null)

.PHONY: run run-production shell test install store train lint widget bench-profile bench bench-security bench-tasks bench-escalation bench-nlu bench-generation bench-translation bench-recommender recommender lock clean help

help:
	@echo "make run      install, prepare the store, train if needed, start Kefu (REST + Socket.IO)"
	@echo "make run-production  the same on every core: Rasa and action-server workers, Redis (installed from Debian)"
	@echo "make shell    the same, but talk to Kefu in the terminal (rasa shell)"
	@echo "make test     install and run the whole test suite"
	@echo "make bench    load benchmarks over REST: order status vs stock rasa init, returns/exchanges"
	@echo "make bench-profile  CPU per customer message by part (NLU, policies, actions, store...)"
	@echo "make bench-tasks  every shared task as one whole conversation, database judged after each"
	@echo "make bench-security  the hostile corpus and long messages against Kefu as make run starts it"
	@echo "make bench-escalation  escalation precision and recall on the labelled conversations"
	@echo "make bench-nlu  intent, out-of-scope and sentiment quality on outside data vs stock Rasa"
	@echo "make bench-generation / bench-translation  grounded answers; chrF and BLEU on NTREX"
	@echo "make bench-recommender  recommender quality on real purchases vs popularity, EASE, ALS..."
	@echo "make store    create and seed the store (python -m kefu.store --help for more)"
	@echo "make widget   rebuild the website widget from widget/src (npm; the built files are committed)"

run: install store train recommender
	@scripts/serve.sh run

# The same on every core: Rasa and action-server workers sharing conversations through Redis.
run-production: install store train recommender
	@scripts/serve.sh production

shell: install store train recommender
	@scripts/serve.sh shell

test: install store train recommender
	@scripts/test.sh

install: $(STAMP)

$(STAMP): requirements.txt pyproject.toml scripts/install-llama.sh
	@python=$$(scripts/find-python.sh) || exit 1; \
	if [ ! -x $(PY) ] || ! $(PY) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))'; then \
		echo "Creating $(VENV) with $$python"; rm -rf $(VENV); "$$python" -m venv $(VENV) || exit 1; \
	fi
	$(PY) -m pip install --disable-pip-version-check -q --upgrade "pip==24.2"
	@scripts/install-llama.sh
	$(PY) -m pip install --disable-pip-version-check -q -r requirements.txt
	$(PY) -m pip install --disable-pip-version-check -q --no-deps -e .
	@touch $@

store: install
	$(PY) -m kefu.store prepare

train: $(MODEL)

# Product suggestions, retrained only when the artefact is missing or older than the orders.
recommender: install store
	$(PY) -m kefu.recommender train --if-stale

$(MODEL): $(STAMP) $(TRAINING)
	@echo "Training the model (about 5 minutes on 2 cores; only when config, domain or data changed)"
	$(RASA) train --quiet --fixed-model-name kefu --out models
	@touch $@

# The website widget (widget/src, npm + esbuild) into kefu/channels/widget_static/, committed so
# that running Kefu needs no Node.js; a test fails when the built files are older than the sources.
widget:
	cd widget && npm ci --no-audit --no-fund && node build.mjs

# All 520 shared tasks as whole conversations (11 to 14 minutes on 2 cores, 2026-12-04 runs): reports/task_scenarios.*
bench-tasks: install store train
	$(PY) benchmarks/task_scenarios.py

lint: install
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

bench: install store train
	$(PY) benchmarks/rest_load.py
	$(PY) benchmarks/change_load.py

# Where a turn's CPU goes: py-spy on both servers under the REST load (reports/turn_profile.*).
bench-profile: install store train
	$(PY) benchmarks/turn_profile.py --label now

# The hostile corpus against Kefu as `make run` starts it; bystander latency under long messages.
bench-security: install store train
	$(PY) benchmarks/security.py

# When Kefu brings in a person, on the team's labelled conversations (tune half / test half).
bench-escalation: install store train
	$(PY) benchmarks/escalation.py

# NLU quality on outside data (Bitext, CLINC150, UCI), Kefu against Rasa's stock pipeline.
bench-nlu: install train
	$(PY) benchmarks/nlu.py --cv-folds 5 --with-diet 0.3

# Grounded answers to the team's policy questions (guard on and off), and translation quality.
bench-generation: install store
	$(PY) benchmarks/generation.py

bench-translation: install
	$(PY) benchmarks/translation.py --limit 300

# Recommender quality on real purchases (UCI Online Retail) against five baselines.
bench-recommender: install
	$(PY) benchmarks/recommender.py

lock: install
	@( echo "# Pinned environment of Kefu (Python 3.10). Generated by 'make lock' from requirements.in."; \
	   $(PY) -m pip freeze --exclude-editable | grep -v '^kefu' \
	   | sed -E 's/^llama_cpp_python @ .*/llama-cpp-python==$(shell $(PY) -c "import importlib.metadata as m; print(m.version(\"llama_cpp_python\"))")/' ) > requirements.txt

clean:
	rm -rf models/*.tar.gz results var .pytest_cache
