#!/usr/bin/env bash
# Continue training the kitchen model on a lent GPU machine (the device tool), from the packed
# data and the warm start made here:
#
#   python -m training.pipeline --stage data && python -m training.transfer --quality 75
#   python -m training.pipeline --stage train --warm-start models/kitchen/model.onnx --prepare-only
#   tar -czf var/pack.tgz -C var pack  (9507 small files take more room than their bytes)
#   python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 -d .whl \
#       ultralytics==<the train venv's version> ultralytics-thop  (.whl ignored by git)
#   device run, carrying var/pack.tgz, var/kitchen/warm_start/warm_start.pt,
#   var/kitchen/runs/.ultralytics (the font) and .whl:
#     bash scripts/train-gpu.sh HOURS [LR0] [AUG_SCALE]
#
# With ARCHITECTURE set (an ultralytics model config, e.g. ARCHITECTURE=yolo26n-p2.yaml; see
# python -m bench.architectures) it trains that network from scratch instead of continuing the
# warm start, which then need not be carried.
#
# It copies the run's best checkpoint and records (args.yaml, results.csv, run.json, the log) to
# $OUT; put them under var/kitchen/runs/kitchen/ here, then run the export, evaluate and card
# stages.
set -u
hours=${1:?usage: train-gpu.sh HOURS [LR0] [AUG_SCALE]}
lr0=${2:-}
aug_scale=${3:-}  # ultralytics' scale augmentation (--aug-scale); its default is 0.5
out=${OUT:-var/gpu-out}
mkdir -p "$out"
[ -d var/pack ] || tar -xzf var/pack.tgz -C var || exit 1
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .whl/*.whl || exit 1
# ultralytics imports polars only for plots (off here) and to copy results.csv into each
# checkpoint (inside a try that falls back to {}); its 54 MB wheel does not fit the transfer.
mkdir -p /tmp/site/polars
echo 'def read_csv(*args, **kwargs): raise RuntimeError("polars is not installed")' \
    >/tmp/site/polars/__init__.py
export PYTHONPATH=/tmp/site PYTHONUNBUFFERED=1 ORT_DISABLE_TELEMETRY=1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
python3 -c 'import torch; print("torch", torch.__version__, torch.cuda.is_available())'
# stop a little after the training budget, so the copies below always run
limit=$(python3 -c "print(int(float('$hours') * 3600 + 90))")
start=(--warm-start var/kitchen/warm_start/warm_start.pt)
[ -n "${ARCHITECTURE:-}" ] && start=(--architecture "$ARCHITECTURE")
timeout "$limit" python3 -m training.pipeline --stage train --data var/pack/data.yaml \
    "${start[@]}" --device 0 --batch 64 --workers 14 \
    --cache ram --no-plots --train-hours "$hours" ${lr0:+--lr0 "$lr0"} \
    ${aug_scale:+--aug-scale "$aug_scale"} >"$out/train.log" 2>&1
status=$?
tail -n 40 "$out/train.log"
run=var/kitchen/runs/kitchen
cp "$run/weights/best.pt" "$run/results.csv" "$run/args.yaml" "$run/run.json" "$out"/
exit $status
