#!/usr/bin/env bash
# The benchmark (docs/performance.md): installs wrk from Debian's packages when it is
# missing, then runs bench/benchmark.py with the project's virtualenv. Arguments pass
# through: --quick for a few seconds, --help for the others.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v wrk >/dev/null; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    export DEBIAN_FRONTEND=noninteractive
    {
        $sudo apt-get install -y -qq wrk || { $sudo apt-get update -qq && $sudo apt-get install -y -qq wrk; }
    } >&2
fi
python=.venv/bin/python
[ -x "$python" ] || python=python3
exec "$python" -m bench.benchmark "$@"
