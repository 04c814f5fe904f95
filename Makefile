# Thin wrapper: everything lives in ./dev (which works on a fresh machine without make).
.PHONY: run test build bench deps
run test build bench deps:
	./dev $@
