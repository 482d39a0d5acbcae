# Open MRV service. `make help` lists the targets.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python
MANAGE := $(PY) manage.py
STAMP  := $(VENV)/.installed
PORT   ?= 8000
# make run listens on this address only; HOST=0.0.0.0 make run to be reachable from other machines.
HOST   ?= 127.0.0.1
PYTEST_ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help venv run test lint format bench drill-deadline drill-broker loadtest drill-faults drill-restore drill-xlsx drill-big-import schema clean

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-8s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

venv: $(STAMP) ## create .venv and install the project with its dev tools (again when pyproject.toml changes)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --disable-pip-version-check --quiet -e '.[dev]'
	touch $(STAMP)

run: venv ## embedded mode: SQLite + Celery workers (checks + beat, imports) on the filesystem broker + web server on :8000, demo data
	mkdir -p var/static var/celery/queue var/celery/processed var/celery/control
	scripts/locale.sh $(PY)
	$(MANAGE) migrate --no-input
	$(MANAGE) collectstatic --no-input --verbosity 0
	$(MANAGE) seed_demo | tee var/demo-tokens.txt
	@token=$$(awk '$$2 == "demo-operator" {print $$3}' var/demo-tokens.txt); \
	$(BIN)/celery -A config worker -Q $${MRV_TASK_QUEUE:-mrv} -B -n checks@%h --loglevel=INFO --concurrency=2 \
		--without-gossip --without-mingle --without-heartbeat >var/worker.log 2>&1 & \
	worker=$$!; \
	MRV_WORKER_MAX_MEMORY_PER_CHILD=$${MRV_WORKER_MAX_MEMORY_PER_CHILD:-524288} MRV_WORKER_CONCURRENCY=1 \
	$(BIN)/celery -A config worker -Q $${MRV_IMPORT_QUEUE:-mrv-imports} -n imports@%h --loglevel=INFO \
		--without-gossip --without-mingle --without-heartbeat >var/import-worker.log 2>&1 & \
	importer=$$!; \
	trap 'kill $$worker $$importer 2>/dev/null; wait $$worker $$importer 2>/dev/null' EXIT INT TERM; \
	echo ""; \
	echo "Celery workers started: checks and beat (pid $$worker, log var/worker.log), imports (pid $$importer, log var/import-worker.log)."; \
	echo "Service at http://$(HOST):$(PORT)/  (API docs: /api/docs/, health: /healthz, readiness: /readyz)"; \
	echo "Demo operator token: $$token"; \
	echo "Try:"; \
	echo "  curl -s http://127.0.0.1:$(PORT)/api/v1/calculate/ -H \"Authorization: Token $$token\" \\"; \
	echo "    -H 'Content-Type: application/json' \\"; \
	echo "    -d '{\"methodology\": \"cn-mee-2024\", \"lines\": [{\"ref\": \"boiler-coal\", \"source\": \"fuel_combustion\", \"fuel\": \"bituminous_coal\", \"quantity\": {\"value\": \"1000\", \"unit\": \"t\"}}]}'"; \
	echo ""; \
	$(MANAGE) runserver $(HOST):$(PORT)

TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/mrv
TEST_BROKER_URL   ?= redis://127.0.0.1:6379/0
TEST_REDIS_URL    ?= redis://127.0.0.1:6379/1

test: venv ## run the whole suite against PostgreSQL and Redis (started if down); PYTEST_ARGS=... passes options
	scripts/services.sh
	scripts/locale.sh $(PY)
	mkdir -p var/static
	DATABASE_URL=$(TEST_DATABASE_URL) CELERY_BROKER_URL=$(TEST_BROKER_URL) MRV_REDIS_URL=$(TEST_REDIS_URL) \
		$(BIN)/pytest $(PYTEST_ARGS)

lint: venv ## ruff check, ruff format --check, mypy (strict) on accounting
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy accounting

format: venv ## apply ruff's fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: venv ## run the benchmarks on PostgreSQL and Redis (python -m bench [name]); figures and ratios
	scripts/services.sh
	scripts/locale.sh $(PY)
	$(PY) -m bench $(BENCH)

DRILL_SECONDS   ?= 45
DRILL_OPERATORS ?= 8
drill-broker: venv ## broker/worker drills on their own Redis: a run killed until the redelivery cap, a broker that never answers
	scripts/services.sh
	mkdir -p var/static
	DATABASE_URL=$(TEST_DATABASE_URL) CELERY_BROKER_URL=$(TEST_BROKER_URL) MRV_REDIS_URL=$(TEST_REDIS_URL) \
		$(BIN)/pytest tests/mrv/drills_broker.py -s $(PYTEST_ARGS)

drill-xlsx: venv ## a 1,000,000-row XLSX posted twice to gunicorn: both refused (400) while /healthz answers; latencies printed
	scripts/services.sh
	scripts/locale.sh $(PY)
	mkdir -p var/static
	DATABASE_URL=$(TEST_DATABASE_URL) CELERY_BROKER_URL=$(TEST_BROKER_URL) MRV_REDIS_URL=$(TEST_REDIS_URL) \
		$(BIN)/pytest tests/mrv/drills_hostile.py -s -k drill_xlsx $(PYTEST_ARGS)

drill-big-import: venv ## 8-million-row background imports end failed within the import time limit; another tenant's verification completes
	scripts/services.sh
	scripts/locale.sh $(PY)
	mkdir -p var/static
	DATABASE_URL=$(TEST_DATABASE_URL) CELERY_BROKER_URL=$(TEST_BROKER_URL) MRV_REDIS_URL=$(TEST_REDIS_URL) \
		$(BIN)/pytest tests/mrv/drills_hostile.py -s -k drill_big_import $(PYTEST_ARGS)

drill-deadline: venv ## deadline-day drill: 8 operators for 45 s on gunicorn + PostgreSQL (mrv_drill) + Redis; 0 5xx, 0 lost
	scripts/services.sh
	DRILL_SECONDS=$(DRILL_SECONDS) DRILL_OPERATORS=$(DRILL_OPERATORS) $(PY) -m bench.deadline

LOADTEST_SECONDS ?= 120
LOADTEST_CLIENTS ?= 8
LOADTEST_WORKERS ?= 4
loadtest: venv ## load test: a mix of calculate, create+submit, import, list, aggregates, downloads from LOADTEST_CLIENTS clients for LOADTEST_SECONDS on gunicorn + PostgreSQL (mrv_drill_load) + Redis + Celery
	scripts/services.sh
	scripts/locale.sh $(PY)
	LOADTEST_SECONDS=$(LOADTEST_SECONDS) LOADTEST_CLIENTS=$(LOADTEST_CLIENTS) LOADTEST_WORKERS=$(LOADTEST_WORKERS) $(PY) -m bench.loadtest

drill-faults: venv ## the load test while a gunicorn worker and the Celery worker are killed (-9) and the drill's Redis restarted: only retryable answers, nothing lost or duplicated
	scripts/services.sh
	scripts/locale.sh $(PY)
	LOADTEST_FAULTS=1 LOADTEST_SECONDS=$(LOADTEST_SECONDS) LOADTEST_CLIENTS=$(LOADTEST_CLIENTS) LOADTEST_WORKERS=$(LOADTEST_WORKERS) $(PY) -m bench.loadtest

drill-restore: venv ## backup and restore drill: pg_dump a loaded mrv_drill_restore, pg_restore it into a new database; verify_audit_chain and aggregates equal
	scripts/services.sh
	$(PY) -m bench.restore

messages: venv ## update mrv/locale/zh_Hans's catalogue from the code (makemessages), then compile it
	cd mrv && $(abspath $(PY)) $(abspath manage.py) makemessages -l zh_Hans --no-obsolete --no-location
	scripts/locale.sh $(PY)

schema: venv ## regenerate and validate openapi.yaml (commit it with the API change)
	$(MANAGE) spectacular --file openapi.yaml --validate

clean: ## remove the virtualenv and runtime state (database, queues, static files)
	rm -rf $(VENV) var
