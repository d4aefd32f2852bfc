# The two commands of the README: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
DEMO_WORKSPACE ?= demo

.PHONY: run test lint venv migrate demo recompute serve worker beat bench bench-smoke clean

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	# The legacy Segment SDK pins an old `backoff` that conflicts with Rudder's; it works with the new one.
	$(PY) -m pip install --quiet --no-deps analytics-python==1.4.post1
	touch $(STAMP)

venv: $(STAMP)

migrate: venv
	$(PY) manage.py migrate --noinput

demo: migrate
	$(PY) manage.py seed_demo --workspace $(DEMO_WORKSPACE)

recompute: venv
	$(PY) manage.py recompute --workspace $(DEMO_WORKSPACE) --history

serve: venv
	@mkdir -p staticfiles  # whitenoise warns when STATIC_ROOT is missing; files come from the finders
	$(PY) manage.py runserver $(HOST):$(PORT)

## Set everything up from nothing and serve the dashboard on http://127.0.0.1:8000
run: demo recompute serve

lint: venv
	$(VENV)/bin/ruff check .
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
