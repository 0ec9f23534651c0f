#!/usr/bin/env bash
# Character-level GPT training on tiny Shakespeare, Adjoint against PyTorch on the same
# machine, back to back: runs `./adjoint lm --json` and bench/peers/gpt.py (the same model,
# data split, optimizer, schedule, clipping, batch and iterations in PyTorch) with each
# PyTorch found, then prints one table: mean time per training iteration (evaluation
# excluded), the final validation loss over the whole held-out text, and the ratio of
# iteration times against each PyTorch, over the whole run and past the first evaluation
# interval (iteration 250 at the defaults), which holds a fresh JVM's JIT warm-up.
#
# Usage: bench/lm-compare.sh [--iters N] [--rounds N] [--device cpu|cuda] [--isa avx2] [LM OPTION...]
#   --iters N       iterations for both (default 2000, the lm default)
#   --rounds N      run each N times, alternating, and report medians (as for
#                   bench/train-compare.sh)
#   --device D      cpu (default) or cuda: Adjoint's --backend and PyTorch's device
#   --isa avx2      on an AVX-512 CPU, what an AVX2-only one gets, for Adjoint and PyTorch
#                   alike (bench/isa.sh, as for bench/compare.sh)
#   LM OPTION       --layers --heads --embed --context --batch --lr --dropout
#                   --attention-dropout --seed --eval-interval --eval-batches, passed to
#                   both with their values
# Environment: PYTHON and TORCH2_PYTHON as for bench/train-compare.sh.
# Run time on the 2-core reference machine at the defaults: several minutes for each.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
iters=2000
rounds=1
device=cpu
isa=""
shared=()
while (($#)); do
  case "$1" in
    --iters) iters="$2"; shift ;;
    --rounds) rounds="$2"; shift ;;
    --device) device="$2"; shift ;;
    --isa) isa="$2"; shift ;;
    --layers | --heads | --embed | --context | --batch | --lr | --dropout | --attention-dropout | --seed | --eval-interval \
      | --eval-batches)
      shared+=("$1" "$2"); shift ;;
    -h | --help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "lm-compare.sh: unknown option '$1'" >&2; exit 2 ;;
  esac
  shift
done
case "$device" in
  cpu | cuda) ;;
  *) echo "lm-compare.sh: --device must be cpu or cuda, got '$device'" >&2; exit 2 ;;
esac
if ! [[ "$rounds" =~ ^[1-9][0-9]*$ ]]; then
  echo "lm-compare.sh: --rounds must be a positive integer, got '$rounds'" >&2
  exit 2
fi
source "$root/bench/isa.sh"
restrict_isa lm-compare.sh "$isa" || exit 2
if ((${#jvm_isa[@]})); then
  export ADJOINT_JAVA_OPTS="${ADJOINT_JAVA_OPTS:+$ADJOINT_JAVA_OPTS }${jvm_isa[*]}"
fi
python="${PYTHON:-}"
if [[ -z "$python" ]]; then
  if [[ -x /usr/bin/python3 ]]; then python=/usr/bin/python3; else python="$(command -v python3)"; fi
fi
out="$root/bench/target/lm-compare/$(date +%Y%m%d-%H%M%S)"
mkdir -p "$out"
source "$root/bench/peers/torch2.sh"
find_torch2 "$python" "$root/bench/target/torch2-venv" "$out/torch2-venv.log" || exit 1

for ((round = 1; round <= rounds; round++)); do
  begin_round "$round"
  echo "adjoint: ./adjoint lm --json --iters $iters --backend $device ${shared[*]}" >&2
  "$root/adjoint" lm --json --iters "$iters" --backend "$device" ${shared[@]+"${shared[@]}"} \
    > "$out/adjoint$round_suffix.json"
  notes=()
  run_peers gpt.py --iters "$iters" --device "$device" ${shared[@]+"${shared[@]}"}
done
print_machine
if [[ -n "$isa" ]]; then
  echo "isa mode: $isa_note" | tee -a "$out/machine.txt"
fi

"$python" "$root/bench/peers/rounds.py" lm "$out" "$rounds" "$device" ${notes[@]+"${notes[@]}"}
