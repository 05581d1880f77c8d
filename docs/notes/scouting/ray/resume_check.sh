#!/bin/sh
# Resume test prototype: SIGKILL the driver after the first result.json appears; the rerun of the
# same command kills the orphans left by the dead driver, reuses finished units, computes the rest,
# and the result files equal a local run.
# Run: sh resume_check.sh   (needs /tmp/rsx/local from: executor_proto.py experiment --executor local --out /tmp/rsx/local)
cd "$(dirname "$0")"; export OMP_NUM_THREADS=1
OUT=/tmp/rsx/resume; rm -rf "$OUT"
CMD="venv/bin/python executor_proto.py experiment --executor ray --workers 2 --slow 8 --out $OUT"
$CMD > /tmp/rsx/resume-1.log 2>&1 &
DRIVER=$!
until [ "$(find "$OUT" -name result.json 2>/dev/null | wc -l)" -ge 1 ]; do sleep 0.2; done
kill -9 $DRIVER; wait $DRIVER 2>/dev/null
echo "after kill: $(find "$OUT" -name result.json | wc -l) result.json; recorded ray pids still alive:"
venv/bin/python - "$OUT" <<'PY'
import json, sys
from pathlib import Path
table = json.loads(Path(sys.argv[1], "ray-pids.json").read_text())
time_alive = __import__("time").sleep(6)
alive = [p for p in table if Path(f"/proc/{p}").exists() and "zombie" not in Path(f"/proc/{p}/status").read_text()]
print(" ", len(table), "recorded,", len(alive), "alive 6 s later:", [Path(f"/proc/{p}/cmdline").read_bytes()[:24] for p in alive])
PY
$CMD 2>&1 | grep -v "^\[20\|raylet" | tail -3
diff -r /tmp/rsx/local "$OUT" && echo "RESUMED RESULT IDENTICAL TO LOCAL"
