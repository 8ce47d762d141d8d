bench:
	bash bench/run.sh

test:
	bash scripts/test.sh

.PHONY: bench test
