"""Where a worker's time goes under load: py-spy on one gunicorn worker while wrk loads it.

    .venv/bin/pip install py-spy                      # once (it is no dependency)
    .venv/bin/python -m bench.profile                 # writes bench/results/profile-*.svg
    .venv/bin/python -m bench.profile --seconds 20 --format raw

The service runs as the Procfile runs it, on loopback, loaded at 8 connections with the
benchmark's sample; py-spy samples one worker (root, or ptrace allowed, is needed) and
writes a flame graph, or collapsed stacks with ``--format raw``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from bench import servers, wrk
from bench.benchmark import RESULTS, SAMPLE
from hook import samples
from tests.support.processes import stop
from tests.support.settings import BASE_ENV, SECRET

SETTLE_S = 1.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("--seconds", type=int, default=10, help="how long py-spy samples")
    parser.add_argument(
        "--format", choices=("flamegraph", "raw", "speedscope"), default="flamegraph"
    )
    args = parser.parse_args(argv)
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(py_spy).exists():
        raise SystemExit("py-spy is not installed: .venv/bin/pip install py-spy")
    suffix = {"flamegraph": "svg", "raw": "txt", "speedscope": "json"}[args.format]
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H%M%S")
    output = RESULTS / f"profile-{stamp}.{suffix}"
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="psc-profile-") as workdir:
        body_file = Path(workdir) / "body.json"
        body_file.write_text(json.dumps(samples.load(SAMPLE)))
        server = servers.start("service", dict(BASE_ENV), Path(workdir))
        try:
            target = wrk.Target(server, body_file, "Authorization", SECRET)
            load = threading.Thread(target=wrk.run, args=(target, 8, args.seconds + 2 * SETTLE_S))
            load.start()
            time.sleep(SETTLE_S)
            record = [py_spy, "record", "--pid", str(server.workers()[0])]
            options = ["--duration", str(args.seconds), "--format", args.format]
            subprocess.run([*record, *options, "--output", str(output)], check=True)
            load.join()
        finally:
            stop(server.process)
    print(f"Profile written to {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
