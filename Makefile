# The two set-up commands of the README, and the contributor's loop.
VENV ?= .venv
PY := $(VENV)/bin/python
JB := $(VENV)/bin/jupyter-book

.PHONY: env book pdf test serve clean bench

env:
	@SGDBOOK_VENV=$(abspath $(VENV)) bash tools/setup-env.sh

## Build the whole book (installs what it needs first) and print where the HTML is.
book: env
	$(JB) build book
	@echo "HTML: $(CURDIR)/book/_build/html/index.html"

## Build the PDF edition with XeLaTeX (installs Debian's TeX Live first) and print where it is.
## Strict: a LaTeX error, a missing glyph or an undefined reference fails it.
pdf: env
	@SGDBOOK_PDF=1 SGDBOOK_VENV=$(abspath $(VENV)) bash tools/setup-env.sh
	rm -rf book/_build/latex
	$(JB) build book --builder pdflatex
	@$(PY) book/_ext/sgdbook_pdf.py check book/_build/latex

## Run the whole test suite: the sgdbook tests, a strict clean build of the book, checks of its
## HTML, the browser tests and the workflow lint.
test:
	@SGDBOOK_TEST=1 SGDBOOK_VENV=$(abspath $(VENV)) bash tools/setup-env.sh
	$(PY) -m pytest $(PYTEST_ARGS)

## Serve the built site on http://localhost:8000 (rebuild with `make book` in another shell).
serve:
	$(PY) -m http.server --directory book/_build/html 8000

## Remove the build output, executed-notebook cache included.
clean:
	rm -rf book/_build

## Print the build benchmark (clean, no-change, prose-edit and code-edit rebuilds; chapter times).
bench: env
	$(PY) benchmarks/bench_build.py
