# One-command entry points. The first run creates .venv and installs the pinned requirements.
STACK  ?= staging
# The Pulumi project: `.` (the platform) or `bootstrap` (the per-account bootstrap, stacks = accounts).
PROJECT ?= .
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
OUT    ?= manifests/$(STACK)
# checkov cannot share .venv (it pins packaging<24, pulumi needs >=26): it gets its own, from requirements-checkov.txt.
CHECKOV_STAMP := .venv-checkov/.installed-stamp

.PHONY: preview bootstrap-preview test manifests cloudformation bench clean

$(STAMP): requirements.txt requirements-dev.txt policies/requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

$(CHECKOV_STAMP): requirements-checkov.txt $(STAMP)
	$(PY) -m tests.checkov_venv

## make preview [STACK=prod] [PROJECT=bootstrap] [JSON=plan.json]: the offline preview of a stack, with the policy verdicts
preview: $(STAMP)
	$(PY) -m infra.offline.preview --project $(PROJECT) --stack $(STACK) $(if $(JSON),--json $(JSON))

## make bootstrap-preview: the offline preview of both bootstrap stacks (the staging and the prod account)
bootstrap-preview: $(STAMP)
	$(PY) -m infra.offline.preview --project bootstrap --stack staging
	$(PY) -m infra.offline.preview --project bootstrap --stack prod

## make test: the whole test suite, offline
test: $(STAMP) $(CHECKOV_STAMP)
	$(PY) -m pytest -q

## make manifests STACK=prod OUT=dir: every Kubernetes object the stack declares, as YAML
manifests: $(STAMP)
	$(PY) -m infra.offline.manifests --stack $(STACK) --out $(OUT)

## make cloudformation [STACK=prod] [TEMPLATE=file.json]: the stack's plan as a CloudFormation template, judged by cfn-lint
cloudformation: $(STAMP)
	$(PY) -m infra.offline.cloudformation.check --stack $(STACK) $(if $(TEMPLATE),--template $(TEMPLATE))

## make bench: timings of the offline engine and the preview per stack
bench: $(STAMP)
	$(PY) -m infra.offline.benchmark

clean:
	rm -rf $(VENV) .venv-checkov .pytest_cache .hypothesis manifests
