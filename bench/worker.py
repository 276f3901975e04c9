"""Run one measured path in this fresh process and print its measurement:

    python -m bench.worker '{"path": "purge_raw", "args": {"company_id": 1}}'

The last line of stdout is ``BENCH-RESULT <json>``. Started by bench/run.py
with the bench environment (bench/env.py); not meant to be run by hand.
"""

import json
import sys

RESULT_PREFIX = "BENCH-RESULT "


def main() -> int:
    spec = json.loads(sys.argv[1])
    import django

    django.setup()
    from bench.paths import PATHS

    result = PATHS[spec["path"]](**spec.get("args", {}))
    print(RESULT_PREFIX + json.dumps(result, default=str), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
