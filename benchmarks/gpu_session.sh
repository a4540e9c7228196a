#!/usr/bin/env bash
# Issue 29, Part 2: everything a session with a lent GPU runs, in phases that each write under OUT.
#
#   bash benchmarks/gpu_session.sh OUT [PHASE...]      PHASE: env tests bench train (default: all four)
#
# One device command may run 10 minutes and a session has about 15 minutes of device time in all (a start costs
# 1-2), so run it as two commands, each with timeout_s leaving room:
#   1. bash benchmarks/gpu_session.sh $OUT env tests bench        (about 5 min: TESTS_S + BENCH_S)
#   2. TRAIN_S=420 bash benchmarks/gpu_session.sh $OUT train       (TRAIN_S of training, then about 1 min scoring)
# The device's python3 has CuPy, PyTorch, NumPy, pytest and hypothesis; nothing is fetched. $OUT keeps at most
# 8 files, 2 folders down, so each phase writes one log or JSON file there and the run folder stays on the machine
# except its grid and metrics, which are copied up.
set -u
out=${1:?usage: gpu_session.sh OUT [env|tests|bench|train ...]}
shift
phases=${*:-env tests bench train}
TESTS_S=${TESTS_S:-150}   # pytest -m cuda
BENCH_S=${BENCH_S:-150}   # the benchmark table, minigrad vs torch on the same GPU
TRAIN_S=${TRAIN_S:-420}   # dcgan64 --amp on MNIST 64x64; stopped by SIGTERM, which checkpoints after the step
EVAL_S=${EVAL_S:-90}      # FID / IS / modes of the last checkpoint
PY=${PY:-python3}
mkdir -p "$out"
export PYTHONUNBUFFERED=1 PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}

for phase in $phases; do
  case $phase in
  env)  # what ran where: device, driver, CUDA, CuPy, torch, NumPy
    {
      nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
      $PY -c 'import cupy, numpy, torch; print("cupy", cupy.__version__, "cuda runtime", cupy.cuda.runtime.runtimeGetVersion(), "numpy", numpy.__version__, "torch", torch.__version__)'
      $PY -c 'import minigrad; print("minigrad cuda available:", minigrad.cuda.is_available())'
      git log -1 --format='commit %H %s' 2>/dev/null
    } >"$out/env.txt" 2>&1
    ;;
  tests)  # every cuda leg, amp's included (tests/test_amp_*.py)
    per_test=$($PY -c 'import pytest_timeout' 2>/dev/null && echo --timeout=60)  # one hung kernel must not eat it all
    timeout "$TESTS_S" $PY -m pytest -m cuda -q -p no:cacheprovider -rfEs $per_test tests >"$out/tests_cuda.log" 2>&1
    tail -3 "$out/tests_cuda.log"
    ;;
  bench)  # the table as it stands; --json keeps every number
    timeout "$BENCH_S" $PY -m benchmarks --device cuda --compare torch --json "$out/bench_cuda.json" \
      >"$out/bench_cuda.txt" 2>&1
    tail -30 "$out/bench_cuda.txt"
    ;;
  train)  # dcgan64 with --amp for TRAIN_S seconds, then scored on the GPU
    run=/tmp/dcgan64_amp
    timeout --signal=TERM "$TRAIN_S" $PY -m gan train --model dcgan64 --device cuda --amp --epochs 50 \
      --log-every 50 --outdir "$run" >"$out/train.log" 2>&1
    timeout "$EVAL_S" $PY -m gan evaluate --checkpoint "$run" --device cuda --no-parzen --out "$out/eval.json" \
      >>"$out/train.log" 2>&1
    cp "$run/metrics.jsonl" "$out/metrics.jsonl" 2>/dev/null
    last=$(ls "$run"/samples/epoch_*.png 2>/dev/null | sort | tail -1)
    [ -n "$last" ] && cp "$last" "$out/grid_last.png"
    tail -5 "$out/train.log"
    ;;
  *) echo "gpu_session.sh: unknown phase $phase (env, tests, bench, train)" >&2; exit 2 ;;
  esac
done
