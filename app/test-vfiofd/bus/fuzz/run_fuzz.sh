#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Run a libFuzzer target (meson's test() cannot run a custom target directly).
exec "$@"
