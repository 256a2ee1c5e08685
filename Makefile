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
# The Mermaid parser (npm: mermaid + jsdom), pinned exactly in infra/offline/mermaid/package.json (no lock file).
MERMAID_STAMP := infra/offline/mermaid/node_modules/.installed-stamp

.PHONY: bytecode preview bootstrap-preview diff test manifests cloudformation bench cost docs service clean

$(STAMP): requirements.txt requirements-dev.txt policies/requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

# Where PYTHONDONTWRITEBYTECODE is set (as on the build machines), Python compiles the project's sources again in every
# process, each pack process and test worker included (a preview paid most of a second for it): compiled once here.
# Up-to-date files are skipped, and a stale .pyc is never used (Python checks it against its source).
SOURCES := infra components policies bootstrap delivery functions services tests
bytecode: $(STAMP)
	@$(PY) -m compileall -q -x '/(service_template|node_modules)/' $(SOURCES) >/dev/null

$(CHECKOV_STAMP): requirements-checkov.txt $(STAMP)
	$(PY) -m tests.checkov_venv

$(MERMAID_STAMP): infra/offline/mermaid/package.json $(STAMP)
	$(PY) -m infra.offline.mermaid_check

## make preview [STACK=prod] [PROJECT=bootstrap] [JSON=plan.json]: the offline preview of a stack, with the policy verdicts
preview: bytecode
	$(PY) -m infra.offline.preview --project $(PROJECT) --stack $(STACK) $(if $(JSON),--json $(JSON))

## make bootstrap-preview: the offline preview of both bootstrap stacks (the staging and the prod account)
bootstrap-preview: bytecode
	$(PY) -m infra.offline.preview --project bootstrap --stack staging
	$(PY) -m infra.offline.preview --project bootstrap --stack prod

## make diff [BASE=<git ref>] [STACK=prod] [JSON=review.json] [MARKDOWN=review.md]: what this change does to each
## stack against BASE (default: the merge base with main): creates, updates, replacements, deletes, affected services,
## policy verdicts that change
diff: bytecode
	$(PY) -m infra.offline.diff $(strip $(if $(BASE),--base $(BASE)) $(if $(filter command line,$(origin STACK)),--stack $(STACK)) $(if $(JSON),--json $(JSON)) $(if $(MARKDOWN),--markdown $(MARKDOWN)))

## make test: the whole test suite, offline, one worker per core (a file's tests share a worker and its fixtures)
test: bytecode $(CHECKOV_STAMP) $(MERMAID_STAMP)
	$(PY) -m pytest -q -n auto --dist loadfile

## make manifests STACK=prod OUT=dir: every Kubernetes object the stack declares, as YAML
manifests: bytecode
	$(PY) -m infra.offline.manifests --stack $(STACK) --out $(OUT)

## make cloudformation [STACK=prod] [TEMPLATE=file.json]: the stack's plan as a CloudFormation template, judged by cfn-lint
cloudformation: bytecode
	$(PY) -m infra.offline.cloudformation.check --stack $(STACK) $(if $(TEMPLATE),--template $(TEMPLATE))

## make bench: timings of the offline engine and the preview per stack
bench: bytecode
	$(PY) -m infra.offline.benchmark

## make docs: regenerate docs/02-design/architecture.md and the README's configuration reference, check the diagrams
docs: bytecode $(MERMAID_STAMP)
	$(PY) -m infra.offline.docs
	$(PY) -m infra.offline.mermaid_check docs/02-design/architecture.md README.md

## make service NAME=<name> [CALLERS=a,b] [DELIVERY=gitops REPOSITORY=https://...]: a new service, all six steps
service: bytecode
	$(PY) -m infra.offline.scaffold --name "$(NAME)" $(if $(CALLERS),--callers "$(CALLERS)") $(if $(DELIVERY),--delivery "$(DELIVERY)") $(if $(REPOSITORY),--repository "$(REPOSITORY)")

## make cost [STACK=prod] [USAGE=file]: the monthly estimate of each stack (both unless STACK is given) from its plan
## and the region's price table
cost: bytecode
	@set -e; for stack in $(if $(filter command line,$(origin STACK)),$(STACK),staging prod); do \
		$(PY) -m infra.offline.cost.report --stack $$stack $(if $(USAGE),--usage $(USAGE)); echo; done

clean:
	rm -rf $(VENV) .venv-checkov .pytest_cache .hypothesis manifests infra/offline/mermaid/node_modules
