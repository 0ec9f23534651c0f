#!/usr/bin/env bash
# The CUDA GPT iteration's host share, measured on a machine without a GPU: the fake CUDA
# libraries (bench/gpu/fake_libs.sh) count every call that queues work (FAKE_CUDA_COUNTS) and,
# with FAKE_CUDA_SKIP_WORK, check each launch and product but run none, so that what an
# iteration then takes is the host's own work: building the graph, choosing and queueing the
# kernels. That share bounds the iteration on a device where the host cannot keep ahead.
#
# Prints, for each jar (this checkout's bench/target/adjoint.jar, built if missing, and any
# others given, for example an older commit's), the calls per iteration of 'adjoint lm
# --backend cuda' at width 16 (the calls do not depend on the width; the difference of a 2- and
# a 4-iteration run, halved: the set-up and the evaluation cancel out) and, in ROUNDS alternating rounds, the milliseconds per iteration of
# ITERS iterations at the defaults with no kernel run.
#
# Usage: bench/gpu/host_share.sh [OTHER_JAR...]
# Environment: ROUNDS (2), ITERS (2000), FAKES (a temporary folder: where to build the fakes).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)"
rounds="${ROUNDS:-2}"
iters="${ITERS:-2000}"
fakes="${FAKES:-$(mktemp -d)}"
java="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}/bin/java"
[[ -x "$java" ]] || java="$(command -v java)"
# An older jar run on these fakes may crash in a kernel it calls with other parameters (see
# calls below): its JVM's crash report goes to the fakes' folder, not the working tree.
crash_log=("-XX:ErrorFile=$fakes/hs_err_pid%p.log")

"$root/bench/gpu/fake_libs.sh" "$fakes" > /dev/null
if [[ ! -f "$root/bench/target/adjoint.jar" ]]; then
  (cd "$root" && ./mvnw -B -q -DskipTests package)
fi
jars=("$root/bench/target/adjoint.jar" "$@")

lm() {
  local jar="$1"
  shift
  LD_LIBRARY_PATH="$fakes" "$java" "${crash_log[@]}" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED \
    -jar "$jar" lm --backend cuda --eval-batches 1 --sample 0 --json "$@"
}

calls() {
  # The fake driver prints "fake CUDA calls: N in all", the fake cuBLAS its products, at exit.
  local jar="$1" iterations="$2" skip="$3"
  env ${skip:+FAKE_CUDA_SKIP_WORK=1} FAKE_CUDA_COUNTS=1 \
    LD_LIBRARY_PATH="$fakes" "$java" "${crash_log[@]}" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED \
    -jar "$jar" lm --backend cuda --eval-batches 1 --sample 0 --json --embed 16 --iters "$iterations" \
    --eval-interval 100 2>&1 >/dev/null \
    | awk '/fake CUDA calls:/ {c = $4} /fake cuBLAS calls:/ {p = $4 + $6} END {print c + 0, p + 0}'
}

bash "$root/bench/machine.sh" 2>/dev/null | head -n 3 || true
for jar in "${jars[@]}"; do
  note=""
  read -r c2 p2 < <(calls "$jar" 2 "")
  read -r c4 p4 < <(calls "$jar" 4 "")
  if [[ "$c2" == 0 || "$c4" == 0 ]]; then
    # An older jar whose kernels take other parameters than these fakes' fails when they run:
    # count it without running them (calls that depend on the values may then be missing).
    read -r c2 p2 < <(calls "$jar" 2 skip)
    read -r c4 p4 < <(calls "$jar" 4 skip)
    note=" (counted without running kernels: calls that depend on values, such as an older jar's"
    note+=" clipping, may be missing)"
  fi
  echo "$jar: $(( (c4 - c2) / 2 )) driver calls and $(( (p4 - p2) / 2 )) cuBLAS products per iteration$note"
done
for round in $(seq 1 "$rounds"); do
  for jar in "${jars[@]}"; do
    ms="$(FAKE_CUDA_SKIP_WORK=1 lm "$jar" --iters "$iters" --eval-interval $((iters + 1)) 2>/dev/null \
      | sed -n 's/.*"msPerIteration":\([0-9.]*\).*/\1/p')"
    echo "round $round: $jar: host share $ms ms per iteration (no kernel run, $iters iterations)"
  done
done
