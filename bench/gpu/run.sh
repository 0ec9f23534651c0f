#!/usr/bin/env bash
# Runs, on a GPU machine, everything the CUDA issue asks of one, after bench/gpu/prepare.sh
# has filled bench/target/gpu here and that folder was carried along:
#   1. the cuda-backend GPU tests (JUnit tag gpu: every conformance suite on the device),
#   2. org.adjoint.bench.gpu.GpuBench (SGEMM 4096^3, MLP steps, checkpoint chain with device
#      peak memory per policy) and bench/gpu/torch_peer.py (PyTorch eager, TF32 off),
# writing gpu-tests.txt, adjoint.json, torch.json and nvidia-smi.txt into OUT_DIR.
#
# Usage: bench/gpu/run.sh OUT_DIR
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)"
gpu="$root/bench/target/gpu"
out="${1:?usage: bench/gpu/run.sh OUT_DIR}"
mkdir -p "$out"
java="$gpu/jre/bin/java"
flags=(--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow)

nvidia-smi > "$out/nvidia-smi.txt" 2>&1
echo "== GPU tests" | tee "$out/gpu-tests.txt"
timeout 300 "$java" "${flags[@]}" -jar "$gpu"/junit-platform-console-standalone-*.jar execute \
  --class-path "$gpu/tests:$gpu/lib/*" --scan-class-path --include-tag gpu --details=summary \
  --disable-banner >> "$out/gpu-tests.txt" 2>&1
echo "exit $?" >> "$out/gpu-tests.txt"
tail -25 "$out/gpu-tests.txt"

echo "== Adjoint"
timeout 240 "$java" "${flags[@]}" -Xmx8g -cp "$gpu/adjoint.jar" org.adjoint.bench.gpu.GpuBench \
  > "$out/adjoint.json" 2> "$out/adjoint.log"
cat "$out/adjoint.json"; tail -5 "$out/adjoint.log"
echo "== PyTorch"
timeout 240 python3 "$root/bench/gpu/torch_peer.py" > "$out/torch.json" 2> "$out/torch.log"
cat "$out/torch.json"; tail -5 "$out/torch.log"
