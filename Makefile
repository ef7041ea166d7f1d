# vfiofd: the two commands of the README, and a few more.
#   make run    set up everything, then run the main job in the test bed
#   make test   set up everything, then run every test (host and VM)
#   make bench  set up, then run the benchmarks (BENCH/RATIO lines)
#   make vm PROFILE=iommu CMD='uname -a'   run a command in the test bed
#   make setup  only set up (packages, DPDK, guest kernels, build)
#   make test-newer  also build the newer guest kernel (the newest linux-source of sid or
#               trixie-backports) and run the tests of post-6.12 kernel features on it
SHELL := /bin/bash
PROFILE ?= iommu
CMD ?= uname -a

.PHONY: all setup build run test test-newer bench vm clean

all: build

setup:
	@bash scripts/setup.sh

build:
	@bash scripts/configure.sh && ninja -C build

run: setup
	@bash scripts/run-main.sh

test: setup
	@bash scripts/run-tests.sh

test-newer: setup
	@bash scripts/build-kernel.sh newer
	@bash scripts/run-tests.sh --suite vm-newer

bench: setup
	@bash scripts/run-bench.sh

vm: setup
	@bash scripts/vm-run.sh $(PROFILE) '$(CMD)'

clean:
	rm -rf build
