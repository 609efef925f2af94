#!/usr/bin/env bash
# Sets up what capsule needs (Deno, a Docker engine, a busybox image) and runs
# it on 127.0.0.1:2222 with config.example.yaml. Then: ssh -p 2222 demo@localhost
# (password: demo). Extra arguments go to `capsule serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec deno task dev "$@"
