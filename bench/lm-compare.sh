#!/usr/bin/env bash
# Character-level GPT training on tiny Shakespeare, Adjoint against PyTorch on the same
# machine, back to back: runs `./adjoint lm --json` and bench/peers/gpt.py (the same model,
# data split, optimizer, schedule, clipping, batch and iterations in PyTorch) with each
# PyTorch found, then prints one table: mean time per training iteration (evaluation
# excluded), the final validation loss over the whole held-out text, and the ratio of
# iteration times against each PyTorch.
#
# Usage: bench/lm-compare.sh [--iters N] [--device cpu|cuda] [--isa avx2] [LM OPTION...]
#   --iters N       iterations for both (default 2000, the lm default)
#   --device D      cpu (default) or cuda: Adjoint's --backend and PyTorch's device
#   --isa avx2      on an AVX-512 CPU, what an AVX2-only one gets, for Adjoint and PyTorch
#                   alike (bench/isa.sh, as for bench/compare.sh)
#   LM OPTION       --layers --heads --embed --context --batch --lr --dropout --seed
#                   --eval-interval --eval-batches, passed to both with their values
# Environment: PYTHON and TORCH2_PYTHON as for bench/train-compare.sh.
# Run time on the 2-core reference machine at the defaults: several minutes for each.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
iters=2000
device=cpu
isa=""
shared=()
while (($#)); do
  case "$1" in
    --iters) iters="$2"; shift ;;
    --device) device="$2"; shift ;;
    --isa) isa="$2"; shift ;;
    --layers | --heads | --embed | --context | --batch | --lr | --dropout | --seed | --eval-interval | --eval-batches)
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

echo "adjoint: ./adjoint lm --json --iters $iters --backend $device ${shared[*]}" >&2
"$root/adjoint" lm --json --iters "$iters" --backend "$device" ${shared[@]+"${shared[@]}"} > "$out/adjoint.json"
notes=()
run_peers gpt.py --iters "$iters" --device "$device" ${shared[@]+"${shared[@]}"}
print_machine
if [[ -n "$isa" ]]; then
  echo "isa mode: $isa_note" | tee -a "$out/machine.txt"
fi

"$python" - "$out/adjoint.json" "$out/torch.json" "$out/torch2.json" "$device" ${notes[@]+"${notes[@]}"} <<'PY'
import json, sys, platform, datetime
adjoint = json.load(open(sys.argv[1]))
torches = [t for t in (json.load(open(p)) for p in sys.argv[2:4]) if t.get("iterations")]
device, notes = sys.argv[4], sys.argv[5:]
print(f"tiny Shakespeare, GPT {adjoint['layers']} layers, {adjoint['heads']} heads, width {adjoint['embed']}, "
      f"context {adjoint['context']}, batch {adjoint['batch']}, {adjoint['iterations']} iterations, {device}; "
      f"{datetime.date.today()}, {platform.machine()}, {platform.processor() or 'cpu'}")
print("| | ms/iteration | validation loss | parameters |")
print("| --- | --- | --- | --- |")
print(f"| Adjoint ({adjoint['backend']}) | {adjoint['msPerIteration']:.1f} | {adjoint['valLoss']:.4f} | "
      f"{adjoint['parameters']:,} |")
ratios = []
for t in torches:
    print(f"| PyTorch {t['torch']} ({t['threads']} threads) | {t['msPerIteration']:.1f} | {t['valLoss']:.4f} | "
          f"{t['parameters']:,} |")
    ratios.append(f"Adjoint / PyTorch {t['torch']} time per iteration: {adjoint['msPerIteration'] / t['msPerIteration']:.2f}x")
if ratios or notes:
    print()
for line in ratios + notes:
    print(line)
PY
