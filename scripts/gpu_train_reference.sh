#!/usr/bin/env bash
# Train reference-codec candidates side by side on one GPU (run by the device tool, see
# benchmarks/results/reference_codec.md). Needs: .gpu/train (JPEG q95 of ../shared/data/train)
# and .whl (constriction, pytorch_msssim wheels for the GPU machine's Python).
set -u
MINUTES=${MINUTES:-7}
OUT=${OUT:-/tmp/out}
python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site .whl/*.whl || exit 1
export PYTHONPATH=/tmp/site:$PWD PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total --format=csv
run() {  # name, then train_reference.py arguments
  local name=$1; shift
  python3 benchmarks/train_reference.py --train .gpu/train --device cuda --batch 16 --crop 256 \
    --minutes "$MINUTES" --steps 1000000 --lmbda 0.01 --threads 2 --log-every 1000 \
    --half-weights --out "$OUT/$name" "$@" > "$OUT/$name.log" 2>&1
  echo "$name exit $?"
}
run ctx_lr1e-3 --lr 1e-3 --warmup 1000 &
run ctx_lr3e-4 --lr 3e-4 --warmup 500 &
run msh_lr3e-4 --lr 3e-4 --warmup 500 --entropy-model mean_scale_hyperprior &
wait
for f in "$OUT"/*.log; do echo "== $f"; tail -n 6 "$f"; done
