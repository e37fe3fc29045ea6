# The two commands of the README. Both set up a fresh machine themselves.
.PHONY: run test
run:
	@scripts/run.sh
test:
	@scripts/test.sh
