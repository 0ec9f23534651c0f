#!/usr/bin/env bash
# Adjoint's SGEMM against OpenBLAS in one process, in short windows that take turns, so that
# both see the same machine (org.adjoint.bench.InterleavedGemm): the steadier way to compare
# the two on a shared machine whose speed drifts. Needs libopenblas.so.0
# (apt-get install libopenblas0-pthread); builds bench/target/adjoint.jar when it is missing.
#
# Usage: bench/gemm-vs-openblas.sh [ROUNDS [SHAPE...]]   (default: 20 rounds; 512, 1024, 2048)
#        SHAPE as for GemmBench: 512 (square) or nn|tn|nt:MxKxN
# Environment: OPENBLAS_NUM_THREADS and -Dadjoint.cpu.threads (through JAVA_TOOL_OPTIONS)
#              set the two sides' threads; both default to all cores.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
source "$root/bench/adjoint-jar.sh"
adjoint_jar gemm-vs-openblas.sh
exec "$java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -cp "$jar" \
  org.adjoint.bench.InterleavedGemm "$@"
