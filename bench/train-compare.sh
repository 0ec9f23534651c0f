#!/usr/bin/env bash
# Fashion-MNIST training, Adjoint against PyTorch on the same machine, back to back: runs
# `./adjoint train --data fashion-mnist` (784-256-128-10 ReLU MLP, Adam lr 1e-3, batch 64,
# 10 epochs) and bench/peers/fashion_mnist.py (the same model, optimizer, batch and epochs in
# PyTorch) with each PyTorch found, then prints one table: mean time per epoch and per step
# (training steps only, evaluation excluded, first epoch included), final test accuracy,
# and the ratio against each PyTorch.
#
# Usage: bench/train-compare.sh [--model mlp|cnn|resnet] [--epochs N] [--rounds N] [--data-dir DIR] [--isa avx2]
#   --model     the network: the MLP above (default), or the CNN or residual net that
#               `./adjoint train --model cnn|resnet` documents, built alike in PyTorch
#   --rounds N  run Adjoint and each PyTorch N times, alternating (A, P1, P2, A, P1, P2, ...),
#               and report each one's median time and the ratio of the medians, with every
#               round's ratio beside it: on a shared machine whose speed drifts by tens of
#               percent from minute to minute, one back-to-back run can favour either side
#   --isa avx2  on an AVX-512 CPU, what an AVX2-only one gets, for Adjoint and PyTorch
#               alike (bench/isa.sh, as for bench/compare.sh)
# Environment: PYTHON (default: /usr/bin/python3, else python3 on PATH): its PyTorch, if it
#                has one (1.13 on Debian 12; any release works);
#              TORCH2_PYTHON: a Python with PyTorch 2.x, found or made as by
#                bench/compare.sh (bench/peers/torch2.sh: by default the venv
#                bench/target/torch2-venv, built from a local torch-2 wheel when there is
#                one); TORCH2_PYTHON=none skips it. When PYTHON has PyTorch 2 itself,
#                PyTorch runs once.
# Run time on the 2-core reference machine: about 1 minute for Adjoint, 1 to 2 per PyTorch.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
epochs=10
rounds=1
model=mlp
data_dir=/usr/share/datasets/fashion-mnist
isa=""
while (($#)); do
  case "$1" in
    --isa) isa="$2"; shift ;;
    --epochs) epochs="$2"; shift ;;
    --rounds) rounds="$2"; shift ;;
    --model) model="$2"; shift ;;
    --data-dir) data_dir="$2"; shift ;;
    -h | --help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "train-compare.sh: unknown option '$1'" >&2; exit 2 ;;
  esac
  shift
done
if ! [[ "$rounds" =~ ^[1-9][0-9]*$ ]]; then
  echo "train-compare.sh: --rounds must be a positive integer, got '$rounds'" >&2
  exit 2
fi
python="${PYTHON:-}"
if [[ -z "$python" ]]; then
  if [[ -x /usr/bin/python3 ]]; then python=/usr/bin/python3; else python="$(command -v python3)"; fi
fi
source "$root/bench/isa.sh"
restrict_isa train-compare.sh "$isa" || exit 2
if ((${#jvm_isa[@]})); then
  export ADJOINT_JAVA_OPTS="${ADJOINT_JAVA_OPTS:+$ADJOINT_JAVA_OPTS }${jvm_isa[*]}"
fi
out="$root/bench/target/train-compare/$(date +%Y%m%d-%H%M%S)"
mkdir -p "$out"
source "$root/bench/peers/torch2.sh"
find_torch2 "$python" "$root/bench/target/torch2-venv" "$out/torch2-venv.log" || exit 1

case "$model" in
  mlp) adjoint_model=() ;;
  cnn | resnet) adjoint_model=(--model "$model") ;;
  *) echo "train-compare.sh: --model must be mlp, cnn or resnet, got '$model'" >&2; exit 2 ;;
esac
for ((round = 1; round <= rounds; round++)); do
  begin_round "$round"
  echo "adjoint: ./adjoint train --data fashion-mnist ${adjoint_model[*]} --epochs $epochs --data-dir $data_dir" >&2
  "$root/adjoint" train --data fashion-mnist "${adjoint_model[@]}" --epochs "$epochs" --data-dir "$data_dir" \
    | tee "$out/adjoint$round_suffix.txt" >&2
  notes=()
  run_peers fashion_mnist.py --model "$model" --epochs "$epochs" --data-dir "$data_dir"
done
print_machine
if [[ -n "$isa" ]]; then
  echo "isa mode: $isa_note" | tee -a "$out/machine.txt"
fi

"$python" "$root/bench/peers/rounds.py" train "$out" "$rounds" "$epochs" "$model" ${notes[@]+"${notes[@]}"}
