# One-command entry points. The first run creates .venv and installs the pinned requirements.
STACK  ?= staging
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
OUT    ?= manifests/$(STACK)
# checkov cannot share .venv (it pins packaging<24, pulumi needs >=26): it gets its own, from requirements-checkov.txt.
CHECKOV_STAMP := .venv-checkov/.installed-stamp

.PHONY: preview test manifests bench cost clean

$(STAMP): requirements.txt requirements-dev.txt policies/requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

$(CHECKOV_STAMP): requirements-checkov.txt $(STAMP)
	$(PY) -m tests.checkov_venv

## make preview [STACK=prod] [JSON=plan.json]: the offline preview of a stack, with the policy verdicts
preview: $(STAMP)
	$(PY) -m infra.offline.preview --stack $(STACK) $(if $(JSON),--json $(JSON))

## make test: the whole test suite, offline
test: $(STAMP) $(CHECKOV_STAMP)
	$(PY) -m pytest -q

## make manifests STACK=prod OUT=dir: every Kubernetes object the stack declares, as YAML
manifests: $(STAMP)
	$(PY) -m infra.offline.manifests --stack $(STACK) --out $(OUT)

## make bench: timings of the offline engine and the preview per stack
bench: $(STAMP)
	$(PY) -m infra.offline.benchmark

## make cost [STACK=prod] [USAGE=file]: the monthly estimate of each stack (both unless STACK is given) from its plan
## and the region's price table
cost: $(STAMP)
	@set -e; for stack in $(if $(filter command line,$(origin STACK)),$(STACK),staging prod); do \
		$(PY) -m infra.offline.cost.report --stack $$stack $(if $(USAGE),--usage $(USAGE)); echo; done

clean:
	rm -rf $(VENV) .venv-checkov .pytest_cache .hypothesis manifests
