# The two commands of the README: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
DEMO_WORKSPACE ?= demo

.PHONY: run test lint venv lock migrate demo recompute serve screenshots worker beat bench bench-smoke clean

# The virtualenv gets exactly the versions in the lock files, hashes checked; nothing is resolved here.
$(STAMP): requirements-dev.lock requirements-legacy-sdk.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --require-hashes -r requirements-dev.lock
	# The legacy Segment SDK pins an old `backoff` that conflicts with Rudder's; it works with the new one,
	# so it has a lock of its own and comes without its dependencies (the dev lock has the others).
	$(PY) -m pip install --quiet --require-hashes --no-deps -r requirements-legacy-sdk.lock
	touch $(STAMP)

venv: $(STAMP)

# Every platform and Python the project supports, with the hashes of every file of each pinned release.
LOCK_FLAGS = --quiet --universal --generate-hashes $(if $(UPGRADE),--upgrade)

## Regenerate the lock files from pyproject.toml: run it after changing a dependency there and commit
## the three requirements*.lock files. Pins stay where they are unless a change needs otherwise;
## `make lock UPGRADE=1` moves every one to the newest version the declared ranges allow.
lock: venv
	$(VENV)/bin/uv pip compile $(LOCK_FLAGS) pyproject.toml -o requirements.lock
	$(VENV)/bin/uv pip compile $(LOCK_FLAGS) pyproject.toml --group dev -c requirements.lock -o requirements-dev.lock
	$(VENV)/bin/uv pip compile $(LOCK_FLAGS) --no-deps --group pyproject.toml:legacy-sdk -o requirements-legacy-sdk.lock

migrate: venv
	$(PY) manage.py migrate --noinput

demo: migrate
	$(PY) manage.py seed_demo --workspace $(DEMO_WORKSPACE) --url http://$(HOST):$(PORT) $(SEED_FLAGS)

recompute: venv
	$(PY) manage.py recompute --workspace $(DEMO_WORKSPACE) --history

# serve_demo is runserver that stops at once if PORT is taken (it does not pick another: the address
# seed_demo printed stays true) and, once listening, prints where to sign in and as whom, last.
serve: venv
	@mkdir -p staticfiles  # whitenoise warns when STATIC_ROOT is missing; files come from the finders
	$(PY) manage.py serve_demo --workspace $(DEMO_WORKSPACE) $(HOST):$(PORT)

## Set everything up from nothing and serve the dashboard on http://$(HOST):$(PORT) (127.0.0.1:8000 unless
## given, e.g. `make run PORT=8080`); the sign-in lines come last, after the recompute's log
run: SEED_FLAGS = --no-logins
run: demo recompute serve

## The README's screenshots (docs/screenshots/ja/*.png) from the demo data, in a temporary database;
## `make screenshots SCREENSHOT_FLAGS="--language ja --language en"` adds English
screenshots: venv
	$(PY) docs/screenshots/make_screenshots.py $(SCREENSHOT_FLAGS)

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports --no-logo  # the floors: .importlinter, docs/architecture.md
	$(PY) manage.py makemigrations --check --dry-run
	$(PY) manage.py check

## Set up and run the whole test suite (browser tests need Chromium at /usr/bin/chromium)
test: lint
	$(VENV)/bin/pytest

worker: venv
	$(VENV)/bin/celery -A cs_platform worker --loglevel=info

beat: venv
	$(VENV)/bin/celery -A cs_platform beat --loglevel=info

bench: venv
	$(PY) -m bench

## The benchmark harness end to end at a tiny scale (seconds; CI runs it so the harness cannot rot)
bench-smoke: venv
	$(PY) -m bench smoke

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles
