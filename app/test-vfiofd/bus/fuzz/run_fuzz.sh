#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Run a libFuzzer target (meson's test() cannot run a custom target directly).
# libFuzzer exits with 77 on a crash by default, which meson counts as a skipped test:
# a crash, a leak or a timeout must fail the test.
exec "$@" -error_exitcode=1 -timeout_exitcode=1
