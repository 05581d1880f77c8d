#!/bin/sh
# Item 7: 4 CPU-bound units (~10 s of numpy each, 1 thread), local serial vs embedded Ray with
# 2 workers, alternated, 3 runs each.  Ray wall time includes its start-up and shutdown.
# Run: sh bench.sh  -> bench/*.json and bench/*.log ; summarise with: python3 bench_summary.py
cd "$(dirname "$0")"; B=${1:-bench}; mkdir -p $B; export OMP_NUM_THREADS=1
for rep in 1 2 3; do
  for ex in local ray; do
    /usr/bin/time -f "%e" -o $B/$ex-$rep.time venv/bin/python executor_proto.py bench \
      --executor $ex --workers 2 --iterations 5000 --out $B/$ex-$rep.json > $B/$ex-$rep.log 2>&1
  done
done
