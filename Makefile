# The two commands of the README. Both set everything up first.
.PHONY: run test setup lint

run:
	scripts/setup.sh run
	.venv/bin/python app.py

test:
	scripts/setup.sh dev
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy
	.venv/bin/python -m pytest

lint:
	.venv/bin/ruff check --fix .
	.venv/bin/ruff format .
