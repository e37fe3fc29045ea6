# The two commands of the README. Both set up a fresh machine themselves.
# `make bench` (not part of `make test`) builds in release, measures, prints tables, writes bench/results.md.
.PHONY: run test bench
run:
	@scripts/run.sh
test:
	@scripts/test.sh
bench:
	@scripts/bench.sh
