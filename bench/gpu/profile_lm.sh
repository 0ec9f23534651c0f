#!/usr/bin/env bash
# Profiles './adjoint lm --backend cuda' on a GPU machine with Flight Recorder (Java and native
# samples every millisecond), after bench/gpu/prepare.sh: with CUDA_LAUNCH_BLOCKING=1 every launch
# waits for its kernel, so the samples taken in a launch weigh the kernels by their device time,
# and the Java frames under cuLaunchKernel name the operation. Read the recording here with
#   python3 bench/gpu/jfr_kernels.py OUT_DIR/lm.jfr   (samples by kernel and by cuBLAS caller)
#
# Usage: bench/gpu/profile_lm.sh OUT_DIR [lm options...]    (default: the larger GPT, 60 iterations)
#   BLOCKING=0  profile the ordinary asynchronous run (the host's own share) instead.
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)"
gpu="$root/bench/target/gpu"
out="${1:?usage: bench/gpu/profile_lm.sh OUT_DIR [lm options...]}"
shift
mkdir -p "$out"
out="$(cd "$out" && pwd -P)"
options=("$@")
if [ ${#options[@]} -eq 0 ]; then
  options=(--layers 6 --heads 6 --embed 384 --context 256 --batch 64 --dropout 0.2 --iters 60 --eval-interval 1000)
fi
java="$gpu/jre/bin/java"
[ -x "$java" ] || chmod +x "$gpu"/jre/bin/* "$gpu"/jre/lib/jspawnhelper
source "$root/bench/gpu/wheels.sh"
wheels="$(nvidia_wheel_libraries "${PYTHON:-python3}")"
flags=(--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xmx8g)
[ -z "$wheels" ] || flags+=(-Dadjoint.cuda.libraryPath="$wheels")
recording="filename=$out/lm.jfr,settings=profile,jdk.ExecutionSample#period=1ms,jdk.NativeMethodSample#period=1ms"
if [ "${BLOCKING:-1}" = 1 ]; then
  export CUDA_LAUNCH_BLOCKING=1
fi
timeout "${TIMEOUT:-300}" "$java" "${flags[@]}" -XX:StartFlightRecording:"$recording" \
  -cp "$gpu/adjoint-bench.jar:$gpu/lib/*" org.adjoint.bench.cli.Main lm --backend cuda --json --sample 0 \
  "${options[@]}" > "$out/lm.json" 2> "$out/lm.log"
code=$?
tail -n 3 "$out/lm.log"
cat "$out/lm.json"
exit "$code"
