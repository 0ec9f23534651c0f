#!/usr/bin/env bash
# Runs, on a GPU machine, everything the CUDA issue asks of one, after bench/gpu/prepare.sh
# has filled bench/target/gpu here and that folder was carried along:
#   tests  the cuda-backend GPU tests (JUnit tag gpu: every conformance suite on the device,
#          the random programs against the CPU backend) -> gpu-tests.txt
#   bench  org.adjoint.bench.gpu.GpuBench (SGEMM 4096^3, MLP steps, checkpoint chain with
#          device peak memory per policy) -> adjoint.json, adjoint.log
#   torch  bench/gpu/torch_peer.py (PyTorch eager, TF32 off) -> torch.json, torch.log
#   train  the main job on the GPU: './adjoint train --backend cuda' on the bundled digits, then
#          again with '--checkpoint sqrt', whose epoch lines must match the first run's -> train.txt
#   cnn    (not in the default four; about a minute) the CNN step alone, the 'adjoint train --model
#          cnn' network at batch 64: GpuBench with cuDNN -> cnn-cudnn.json, again with
#          -Dadjoint.cuda.cudnn=false (the im2col path) -> cnn-im2col.json, PyTorch eager with its
#          default cuDNN algorithms and with cudnn.deterministic=True -> torch-cnn.json; logs beside them
#   lm     (not in the default four; about two minutes) the GPT iteration at 'adjoint lm's defaults:
#          './adjoint lm --backend cuda --json' for ADJOINT_GPU_LM_ITERS iterations (500) ->
#          lm-adjoint.json, bench/peers/gpt.py on the same GPU -> lm-torch.json; target <= 1.3x
#   lm-large (alone: up to ADJOINT_GPU_TIMEOUT_LM_LARGE seconds, 570) the larger GPT (6 layers, 6 heads,
#          width 384, context 256, batch 64, dropout 0.2, 5,000 iterations) on the GPU ->
#          lm-large-adjoint.json, its validation loss against the issue's 1.50; with
#          ADJOINT_GPU_LM_LARGE_TORCH=1 PyTorch's run instead -> lm-large-torch.json, =both the two in
#          turn in one call (about 8 minutes at the H200's speeds of 2026-12-04 evening) and their ratio
# then bench/gpu/compare.py sets the figures against the issue's targets -> summary.txt (the
# CNN step against PyTorch's deterministic cuDNN step, like-for-like, target <= 1.5x, with the
# default-algorithm figure and the im2col path's beside it), and bench/gpu/lm_summary.py the GPT's.
# nvidia-smi's report goes to nvidia-smi.txt. The exit status is that of the first stage
# that failed (0 when none did).
#
# Usage: bench/gpu/run.sh OUT_DIR [STAGE...]    (STAGE: tests, bench, torch, train, cnn, lm, lm-large;
#                                                default the first four)
#        bench/gpu/run.sh OUT_DIR cnn           (only the CNN step, both convolution paths and PyTorch)
#        bench/gpu/run.sh OUT_DIR lm            (only the GPT iteration, Adjoint and PyTorch)
#
# Environment:
#   ADJOINT_GPU_DRY_RUN_LIBS=DIR  a dry run on a machine without a GPU: the fake CUDA libraries
#       that bench/gpu/fake_libs.sh built in DIR go first on LD_LIBRARY_PATH, GpuBench and the
#       PyTorch peer use toy sizes, and the tests draw few random programs. Never set on the device.
#   ADJOINT_GPU_PROGRAMS=N  random programs in the test run (default: CudaRandomProgramTest's).
#   ADJOINT_GPU_TIMEOUT_TESTS, _BENCH, _TORCH  seconds per stage (270, 120, 90), _TRAIN seconds per
#       training run (45; the stage runs two): 570 s at most, under the device's 10 minutes.
#       _CNN seconds per run of the cnn stage (60; it runs three); _LM seconds per run of the lm
#       stage (120; it runs two), _LM_LARGE per run of lm-large (570).
#   PYTHON  the Python with PyTorch for the peers (default python3; on the device, the venv's).
#   ADJOINT_GPU_LM_ITERS=N  iterations of the lm stage (500).
#   ADJOINT_GPU_LM_LARGE_TORCH=1  lm-large runs PyTorch's larger GPT (and not Adjoint's); =both runs
#       Adjoint's then PyTorch's, in ADJOINT_GPU_TIMEOUT_LM_LARGE_ADJOINT (330) and _TORCH (260) seconds.
#   ADJOINT_GPU_LM_LARGE_ITERS=N  iterations of lm-large (5000, the issue's; fewer only to time a probe).
#   ADJOINT_GPU_LM_LARGE_ATTENTION_DROPOUT=P  lm-large drops attention weights too, on both sides (nanoGPT's
#       attn_dropout, 0.2 in its configuration; default 0, the configuration of the runs so far).
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)"
gpu="$root/bench/target/gpu"
out="${1:?usage: bench/gpu/run.sh OUT_DIR [tests] [bench] [torch] [train] [cnn]}"
shift
stages=("$@")
if [ ${#stages[@]} -eq 0 ]; then
  stages=(tests bench torch train)
fi
mkdir -p "$out"
out="$(cd "$out" && pwd -P)"
java="$gpu/jre/bin/java"
if [ -f "$java" ] && [ ! -x "$java" ]; then
  # A copy that dropped the file modes: the runtime's launchers must be executable again.
  chmod +x "$gpu"/jre/bin/* "$gpu"/jre/lib/jspawnhelper
fi
if [ ! -x "$java" ]; then
  echo "run.sh: $java is missing: run bench/gpu/prepare.sh first and carry bench/target/gpu" >&2
  exit 2
fi

java_flags=(--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED)
bench_flags=()
torch_flags=()
dry_run=0
python="${PYTHON:-python3}"
programs="${ADJOINT_GPU_PROGRAMS:-}"
if [ -n "${ADJOINT_GPU_DRY_RUN_LIBS:-}" ]; then
  fakes="$(cd "$ADJOINT_GPU_DRY_RUN_LIBS" && pwd -P)" || exit 2
  echo "DRY RUN: CUDA libraries from $fakes (fakes), toy sizes"
  export LD_LIBRARY_PATH="$fakes${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  bench_flags+=(-Dadjoint.gpubench.small=true)
  torch_flags+=(--small)
  dry_run=1
  programs="${programs:-50}"
fi
if [ -n "$programs" ]; then
  java_flags+=(-Dadjoint.test.programs="$programs")
fi

# Where PyTorch's NVIDIA wheels keep cuBLAS and NVRTC (bench/gpu/wheels.sh).
source "$root/bench/gpu/wheels.sh"
wheels="$(nvidia_wheel_libraries "$python")"
if [ -n "$wheels" ]; then
  echo "NVIDIA wheel libraries: $wheels"
  java_flags+=(-Dadjoint.cuda.libraryPath="$wheels")
fi

nvidia-smi > "$out/nvidia-smi.txt" 2>&1 || echo "(nvidia-smi failed: $?)" >> "$out/nvidia-smi.txt"
head -15 "$out/nvidia-smi.txt"

status=0
record() {
  local stage="$1" code="$2"
  echo "$stage: exit $code"
  if [ "$code" -ne 0 ] && [ "$status" -eq 0 ]; then
    status="$code"
  fi
}

run_tests() {
  echo "== GPU tests (JUnit tag gpu)"
  # The launcher's main class, not -jar: -jar would drop -cp, whose lib/* only the java
  # launcher expands. Only the tests folder is scanned: the engine's test jar in lib holds
  # the CPU-side suites too.
  timeout "${ADJOINT_GPU_TIMEOUT_TESTS:-270}" "$java" "${java_flags[@]}" \
    -cp "$gpu/junit-console.jar:$gpu/tests:$gpu/lib/*" org.junit.platform.console.ConsoleLauncher execute \
    --scan-class-path "$gpu/tests" --include-tag gpu --fail-if-no-tests \
    --details=tree --disable-banner --disable-ansi-colors > "$out/gpu-tests.txt" 2>&1
  local code=$?
  echo "exit $code" >> "$out/gpu-tests.txt"
  grep -E "^INFO: Adjoint CUDA backend|^Random programs on|tests (successful|failed|aborted|skipped)|containers failed" \
    "$out/gpu-tests.txt"
  if [ "$code" -ne 0 ]; then
    # One cause (an unavailable backend) can fail every test: the tests first, then each distinct message once.
    local failures
    failures="$(sed -n '/^Failures (/,$p' "$out/gpu-tests.txt")"
    echo "-- failing tests (all in gpu-tests.txt):"
    grep -E "^  JUnit Jupiter" <<< "$failures" | head -20
    echo "-- their messages, by count:"
    grep -E "^ +=> " <<< "$failures" | cut -c1-400 | sort | uniq -c | sort -rn | head -10
  fi
  record tests "$code"
}

run_bench() {
  echo "== Adjoint (GpuBench)"
  timeout "${ADJOINT_GPU_TIMEOUT_BENCH:-120}" "$java" "${java_flags[@]}" "${bench_flags[@]}" -Xmx8g \
    -cp "$gpu/adjoint-bench.jar:$gpu/lib/*" org.adjoint.bench.gpu.GpuBench > "$out/adjoint.json" 2> "$out/adjoint.log"
  local code=$?
  cat "$out/adjoint.json"
  tail -5 "$out/adjoint.log"
  record bench "$code"
}

run_torch() {
  echo "== PyTorch (torch_peer.py)"
  timeout "${ADJOINT_GPU_TIMEOUT_TORCH:-90}" "$python" "$root/bench/gpu/torch_peer.py" "${torch_flags[@]}" \
    > "$out/torch.json" 2> "$out/torch.log"
  local code=$?
  cat "$out/torch.json"
  tail -5 "$out/torch.log"
  record torch "$code"
}

run_train() {
  echo "== ./adjoint train --backend cuda"
  # The command line's classes are in the thin bench jar; the slim class path has everything
  # training needs (JFreeChart only for --plot, which is not used here).
  local train=(timeout "${ADJOINT_GPU_TIMEOUT_TRAIN:-45}" "$java" "${java_flags[@]}" -cp "$gpu/adjoint-bench.jar:$gpu/lib/*"
    org.adjoint.bench.cli.Main train --backend cuda)
  "${train[@]}" > "$out/train.txt" 2>&1
  local code=$?
  echo "-- again with --checkpoint sqrt" >> "$out/train.txt"
  "${train[@]}" --checkpoint sqrt >> "$out/train.txt" 2>&1
  local sqrt_code=$?
  [ "$code" -ne 0 ] || code=$sqrt_code
  grep -vE "^(INFO|WARNING|[A-Z][a-z]{2} [0-9]+, [0-9]{4})" "$out/train.txt" | tail -6
  # Same seed, same kernels: the curve with recomputation must be the one without, bit for bit.
  local curves
  curves="$(sed -E -n 's/^(epoch +[0-9]+\/[0-9]+ +train loss +[^ ]+ +test loss +[^ ]+ +test accuracy +[^ ]+).*/\1/p' "$out/train.txt")"
  local epochs
  epochs="$(grep -c . <<< "$curves")"
  if [ "$code" -eq 0 ] && [ $((epochs % 2)) -eq 0 ] && [ "$epochs" -gt 0 ] \
      && [ "$(head -n $((epochs / 2)) <<< "$curves")" = "$(tail -n $((epochs / 2)) <<< "$curves")" ]; then
    echo "checkpoint sqrt: the same $((epochs / 2)) epoch lines as checkpoint none" | tee -a "$out/train.txt"
  elif [ "$code" -eq 0 ]; then
    echo "checkpoint sqrt: the epoch lines DIFFER from checkpoint none" | tee -a "$out/train.txt"
    code=1
  fi
  record train "$code"
}

run_cnn() {
  echo "== The CNN step: cuDNN, im2col, PyTorch"
  local code=0 run_code
  local gpubench=("$java" "${java_flags[@]}" "${bench_flags[@]}" -Xmx8g -Dadjoint.gpubench.only=cnn)
  timeout "${ADJOINT_GPU_TIMEOUT_CNN:-60}" "${gpubench[@]}" -cp "$gpu/adjoint-bench.jar:$gpu/lib/*" \
    org.adjoint.bench.gpu.GpuBench > "$out/cnn-cudnn.json" 2> "$out/cnn-cudnn.log"
  run_code=$?
  [ "$code" -ne 0 ] || code=$run_code
  cat "$out/cnn-cudnn.json"
  timeout "${ADJOINT_GPU_TIMEOUT_CNN:-60}" "${gpubench[@]}" -Dadjoint.cuda.cudnn=false \
    -cp "$gpu/adjoint-bench.jar:$gpu/lib/*" org.adjoint.bench.gpu.GpuBench > "$out/cnn-im2col.json" 2> "$out/cnn-im2col.log"
  run_code=$?
  [ "$code" -ne 0 ] || code=$run_code
  cat "$out/cnn-im2col.json"
  timeout "${ADJOINT_GPU_TIMEOUT_CNN:-60}" "$python" "$root/bench/gpu/torch_peer.py" "${torch_flags[@]}" --only cnn \
    > "$out/torch-cnn.json" 2> "$out/torch-cnn.log"
  run_code=$?
  [ "$code" -ne 0 ] || code=$run_code
  cat "$out/torch-cnn.json"
  tail -n 3 "$out/cnn-cudnn.log" "$out/cnn-im2col.log" "$out/torch-cnn.log"
  record cnn "$code"
}

# One GPT run: Adjoint's command line (WHO adjoint) or PyTorch's peer (WHO torch), on the GPU
# (on the CPU for PyTorch in a dry run), its JSON to OUT_DIR/NAME.json and its progress to NAME.log.
gpt_run() {
  local who="$1" name="$2" seconds="$3"
  shift 3
  if [ "$who" = adjoint ]; then
    timeout "$seconds" "$java" "${java_flags[@]}" -Xmx8g -cp "$gpu/adjoint-bench.jar:$gpu/lib/*" \
      org.adjoint.bench.cli.Main lm --backend cuda --json --sample 0 "$@" > "$out/$name.json" 2> "$out/$name.log"
  else
    local device=cuda
    [ "$dry_run" -eq 0 ] || device=cpu
    timeout "$seconds" "$python" "$root/bench/peers/gpt.py" --device "$device" "$@" > "$out/$name.json" 2> "$out/$name.log"
  fi
  local code=$?
  grep -E "^(iteration|validation|pytorch)" "$out/$name.log" | tail -n 3
  return "$code"
}

# The options of both GPT stages' runs: the issue's configurations, or toy ones in a dry run.
gpt_options() {
  local size="$1"
  if [ "$dry_run" -eq 1 ]; then
    echo "--iters 4 --layers 1 --heads 2 --embed 16 --context 8 --batch 2 --eval-interval 4 --eval-batches 1"
    [ "$size" = large ] && echo "--dropout 0.2 --attention-dropout ${ADJOINT_GPU_LM_LARGE_ATTENTION_DROPOUT:-0}"
  elif [ "$size" = large ]; then
    echo "--layers 6 --heads 6 --embed 384 --context 256 --batch 64 --dropout 0.2 --iters ${ADJOINT_GPU_LM_LARGE_ITERS:-5000}"
    echo "--attention-dropout ${ADJOINT_GPU_LM_LARGE_ATTENTION_DROPOUT:-0}"
    echo "--eval-interval 500"
  else
    echo "--iters ${ADJOINT_GPU_LM_ITERS:-500}"
  fi
}

run_lm() {
  echo "== The GPT iteration: ./adjoint lm --backend cuda against PyTorch eager"
  local code=0 run_code
  # shellcheck disable=SC2046 # the options are words
  gpt_run adjoint lm-adjoint "${ADJOINT_GPU_TIMEOUT_LM:-120}" $(gpt_options default)
  run_code=$?
  [ "$code" -ne 0 ] || code=$run_code
  # shellcheck disable=SC2046
  gpt_run torch lm-torch "${ADJOINT_GPU_TIMEOUT_LM:-120}" $(gpt_options default)
  run_code=$?
  [ "$code" -ne 0 ] || code=$run_code
  record lm "$code"
}

run_lm_large() {
  local who=adjoint code run_code
  case "${ADJOINT_GPU_LM_LARGE_TORCH:-0}" in
    1) who=torch ;;
    both) who=both ;;
  esac
  echo "== The larger GPT ($who): 6 layers, 6 heads, width 384, context 256, batch 64, dropout 0.2"
  if [ "$who" != both ]; then
    # shellcheck disable=SC2046
    gpt_run "$who" "lm-large-$who" "${ADJOINT_GPU_TIMEOUT_LM_LARGE:-570}" $(gpt_options large)
    record lm-large $?
    return
  fi
  # Both in one call (the H200's 49 and 40 ms an iteration in 2026-12-04's runs 8-9: about 4 and
  # 3.5 minutes with the evaluations), each under its own share of the call's 10 minutes.
  # shellcheck disable=SC2046
  gpt_run adjoint lm-large-adjoint "${ADJOINT_GPU_TIMEOUT_LM_LARGE_ADJOINT:-330}" $(gpt_options large)
  code=$?
  # shellcheck disable=SC2046
  gpt_run torch lm-large-torch "${ADJOINT_GPU_TIMEOUT_LM_LARGE_TORCH:-260}" $(gpt_options large)
  run_code=$?
  [ "$code" -ne 0 ] || code=$run_code
  record lm-large "$code"
}

for stage in "${stages[@]}"; do
  case "$stage" in
    tests) run_tests ;;
    bench) run_bench ;;
    torch) run_torch ;;
    train) run_train ;;
    cnn) run_cnn ;;
    lm) run_lm ;;
    lm-large) run_lm_large ;;
    *) echo "run.sh: unknown stage '$stage' (tests, bench, torch, train, cnn, lm, lm-large)" >&2; exit 2 ;;
  esac
done

if [ -s "$out/adjoint.json" ] || [ -s "$out/torch.json" ]; then
  echo "== Summary"
  python3 "$root/bench/gpu/compare.py" "$out/adjoint.json" "$out/torch.json" 2>&1 | tee "$out/summary.txt"
fi
if [ -s "$out/cnn-cudnn.json" ] || [ -s "$out/torch-cnn.json" ]; then
  echo "== The CNN step"
  python3 "$root/bench/gpu/compare.py" "$out/cnn-cudnn.json" "$out/torch-cnn.json" "$out/cnn-im2col.json" 2>&1 \
    | tee -a "$out/summary.txt"
fi
if [ -s "$out/lm-adjoint.json" ] || [ -s "$out/lm-torch.json" ]; then
  echo "== The GPT iteration"
  python3 "$root/bench/gpu/lm_summary.py" "$out/lm-adjoint.json" "$out/lm-torch.json" --ratio-target 1.3 2>&1 \
    | tee -a "$out/summary.txt"
fi
if [ -s "$out/lm-large-adjoint.json" ] && [ -s "$out/lm-large-torch.json" ]; then
  echo "== The larger GPT (both)"
  python3 "$root/bench/gpu/lm_summary.py" "$out/lm-large-adjoint.json" "$out/lm-large-torch.json" --loss-target 1.50 \
    2>&1 | tee -a "$out/summary.txt"
else
  for who in adjoint torch; do
    if [ -s "$out/lm-large-$who.json" ]; then
      echo "== The larger GPT ($who)"
      python3 "$root/bench/gpu/lm_summary.py" "$out/lm-large-$who.json" --loss-target 1.50 2>&1 | tee -a "$out/summary.txt"
    fi
  done
fi
exit "$status"
