#!/usr/bin/env bash
# The dcgan28 recipe sweep (benchmarks/README.md, "dcgan28 recipes"): every candidate trains in parallel,
# 2 threads each, for up to $MINUTES minutes, scored by the project's classifier after every epoch.
# Usage: bash benchmarks/dcgan28_recipes.sh OUTDIR [MINUTES]
set -u
out=${1:?usage: dcgan28_recipes.sh OUTDIR [MINUTES]}
minutes=${2:-8}
mkdir -p "$out"
declare -A recipes=(
  [base]=""
  [b64]="--batch-size 64"
  [ttur_g1e-3]="--lr-g 1e-3 --lr-d 2e-4"
  [ttur_d4e-4]="--lr-g 1e-4 --lr-d 4e-4"
  [w0.5_b64]="--width 0.5 --batch-size 64"
  [hinge]="--loss hinge"
  [b64_ttur_g1e-3]="--batch-size 64 --lr-g 1e-3 --lr-d 2e-4"
)
for name in "${!recipes[@]}"; do
  # shellcheck disable=SC2086
  OPENBLAS_NUM_THREADS=2 timeout "$((minutes * 60))" python3 -m gan train --model dcgan28 --epochs 5 \
    --eval-every 1 --threads 2 --quiet --outdir "$out/$name" ${recipes[$name]} >"$out/$name.log" 2>&1 &
done
wait
python3 - "$out" <<'PY'
import json, pathlib, sys
for run in sorted(p for p in pathlib.Path(sys.argv[1]).iterdir() if p.is_dir()):
    recs = [json.loads(l) for l in open(run / "metrics.jsonl")] if (run / "metrics.jsonl").exists() else []
    for r in (r for r in recs if r["kind"] == "epoch"):
        print(f"{run.name:16s} epoch {r['epoch']}  {r['seconds'] / 60:5.1f} min  FID {r.get('fid', float('nan')):6.1f}"
              f"  IS {r.get('inception_score', float('nan')):5.2f}  modes {r.get('modes_covered')}  parzen {r.get('parzen_ll', float('nan')):6.1f}")
PY
