bench:
	bash bench/run.sh

bench-alarms:
	bash bench/alarms.sh

test:
	bash scripts/test.sh

.PHONY: bench bench-alarms test
