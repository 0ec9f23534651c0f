#!/usr/bin/env bash
# Adjoint against NumPy (OpenBLAS), PyTorch 1.x and PyTorch 2.x on the same machine, back to
# back: prints the machine (CPU model, vector ISA, caches, JDK) and the kernel configuration
# Adjoint chose on it, runs the JMH suites GemmBench and MlpStepBench for both kernel
# providers (vector, scalar), then bench/peers/peers.py for the same SGEMM shapes and MLP
# step, and prints one table of GFLOP/s, ms/step and ratios (bench/peers/table.py).
#
# Usage: bench/compare.sh [--quick] [--isa avx2] [--out DIR]
#   --quick    square SGEMM sizes 512 and 1024 plus the MLP's own shapes, shorter JMH
#              iterations and fewer peer repetitions
#   --isa avx2 on an AVX-512 CPU, what an AVX2-only one gets (bench/isa.sh): Adjoint's JVMs
#              run with -XX:UseAVX=2, OpenBLAS with its Haswell kernels, PyTorch with
#              ATEN_CPU_CAPABILITY=avx2 and MKL and oneDNN held to AVX2. The caches stay
#              this CPU's, so a real AVX2-only machine must confirm the figures.
#   --out DIR  where the JMH JSON, the peers' JSON, the logs and the table go
#              (default: bench/target/compare/<date-time>)
# Environment: JAVA_HOME (default: the Temurin 25 install, else java on PATH);
#              PYTHON (default: /usr/bin/python3, else python3 on PATH): NumPy and the
#                distribution's PyTorch (1.13 on Debian 12);
#              TORCH2_PYTHON: a Python with PyTorch 2.x, timed as a second PyTorch peer. By
#                default bench/target/torch2-venv, created on first use (about a minute)
#                when a local torch-2.x wheel is found in TORCH2_WHEELS (folders separated by
#                ':', default /opt/wheels:/opt/pypi/files; its dependencies must be there
#                too); without one the table has no PyTorch 2 column and says so.
#                TORCH2_PYTHON=none skips it; when PYTHON has PyTorch 2 itself, it is
#                the one PyTorch peer.
#
# Last, the same SGEMM shapes in one process with Adjoint and OpenBLAS (libopenblas.so.0)
# taking turns (org.adjoint.bench.InterleavedGemm, as bench/gemm-vs-openblas.sh), which the
# machine's drift between the JMH and NumPy phases cannot skew; skipped without OpenBLAS.
#
# Run time on the 2-core reference machine (AMD EPYC): --quick about 2.5 minutes, the full
# run about 8 minutes. The Adjoint JMH forks take most of it: one JVM per provider and
# shape, about 5 s each, longer when one product outlasts a 1 s iteration (a 2048³ product
# takes ~6 s on kernels at 3 GFLOP/s). Add a minute or two when the jar has to be built first,
# a minute when the PyTorch 2 venv has to be made, and for the PyTorch 2 peer's timing about
# 15 s (--quick) or 40 s.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
jar="$root/bench/target/adjoint.jar"
command_line="bench/compare.sh${*:+ $*}"
started=$SECONDS

quick=false
out=""
isa=""
while (($#)); do
  case "$1" in
    --quick) quick=true ;;
    --isa)
      (($# >= 2)) || { echo "compare.sh: --isa needs an instruction set (avx2)" >&2; exit 2; }
      isa="$2"
      shift
      ;;
    --out)
      (($# >= 2)) || { echo "compare.sh: --out needs a directory" >&2; exit 2; }
      out="$2"
      shift
      ;;
    -h | --help)
      sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"
      exit 0
      ;;
    *)
      echo "compare.sh: unknown option '$1' (expected --quick, --isa avx2, --out DIR or --help)" >&2
      exit 2
      ;;
  esac
  shift
done

if [[ -n "${JAVA_HOME:-}" ]]; then
  java="$JAVA_HOME/bin/java"
elif [[ -x /usr/lib/jvm/temurin-25-jdk-amd64/bin/java ]]; then
  export JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64
  java="$JAVA_HOME/bin/java"
else
  java="$(command -v java || true)"
fi
[[ -n "$java" && -x "$java" ]] || { echo "compare.sh: no java found; set JAVA_HOME to a JDK 25" >&2; exit 1; }
# The system Python is the one with NumPy on the distribution's OpenBLAS and PyTorch here; a
# pyenv or venv python3 earlier on PATH may lack both.
if [[ -z "${PYTHON:-}" ]]; then
  if [[ -x /usr/bin/python3 ]]; then PYTHON=/usr/bin/python3; else PYTHON="$(command -v python3 || true)"; fi
fi
[[ -n "$PYTHON" ]] || { echo "compare.sh: no python3 found; set PYTHON" >&2; exit 1; }

# Sets jvm_isa (the JVM options) and exports the peers' variables for --isa.
source "$root/bench/isa.sh"
restrict_isa compare.sh "$isa" || exit 2

out="${out:-$root/bench/target/compare/$(date '+%Y%m%d-%H%M%S')}"
mkdir -p "$out"

# PyTorch 2.x cannot share an interpreter with the distribution's PyTorch 1.13, so it runs
# from a second one: TORCH2_PYTHON, else a venv built from a local wheel (bench/peers/torch2.sh).
source "$root/bench/peers/torch2.sh"
find_torch2 "$PYTHON" "$root/bench/target/torch2-venv" "$out/torch2-venv.log" || exit 1

has_benchmarks() {
  [[ -f "$jar" ]] && "$PYTHON" -c 'import sys, zipfile; sys.exit("META-INF/BenchmarkList" not in zipfile.ZipFile(sys.argv[1]).namelist())' "$jar"
}
if ! has_benchmarks; then
  echo "compare.sh: building $jar ..." >&2
  (cd "$root" && ./mvnw -q -DskipTests install >&2)
  has_benchmarks || { echo "compare.sh: $jar has no JMH benchmarks after the build" >&2; exit 1; }
fi

peer_args=()
if $quick; then
  peer_args+=(--quick)
  gemm_iterations=(-wi 1 -w 1 -i 2 -r 1)
  # The vector MLP step settles only after 6 to 8 s of warm-up (C2 compiling the Vector API).
  mlp_iterations=(-wi 4 -w 2 -i 3 -r 2)
  interleaved_rounds=6
else
  gemm_iterations=()
  mlp_iterations=()
  interleaved_rounds=12
fi
shapes="$("$PYTHON" -B "$root/bench/peers/peers.py" --list-shapes "${peer_args[@]}")"

# The header and the table go to standard output and to $out/table.txt.
report="$out/table.txt"
: >"$report"
say() {
  printf '%s\n' "$*" | tee -a "$report"
}

say "date:     $(date '+%Y-%m-%d %H:%M %Z')"
# CPU model, vector ISA, caches, JDK and the kernel configuration the JMH runs get.
"$root/bench/machine.sh" "$java" "$jar" "${jvm_isa[@]}" | tee -a "$report"
if [[ -n "$isa" ]]; then
  say "isa mode: $isa_note"
fi
say "command:  $command_line"
echo "results:  $out"
echo

# Every number here assumes an otherwise idle machine. Each phase records how much CPU time
# the whole machine used (/proc/stat) against what this script's own children used (the
# builtin 'times', which must run in this shell, not a subshell), so that the table can say
# when other processes competed with a measurement.
clock_ticks="$(getconf CLK_TCK 2>/dev/null || echo 100)"
cores="$(nproc)"
phase_start() {
  phase_wall="$(date +%s.%N)"
  phase_machine="$(machine_cpu_seconds)"
  times >"$out/.times"
  phase_children="$(children_cpu_seconds <"$out/.times")"
}
phase_end() {
  local name="$1" wall machine children
  wall="$(date +%s.%N)"
  machine="$(machine_cpu_seconds)"
  times >"$out/.times"
  children="$(children_cpu_seconds <"$out/.times")"
  rm -f "$out/.times"
  other_cpu+=("$(awk -v name="$name" -v w0="$phase_wall" -v w1="$wall" -v m0="$phase_machine" -v m1="$machine" \
      -v c0="$phase_children" -v c1="$children" -v cores="$cores" 'BEGIN {
        other = (m1 - m0) - (c1 - c0); if (other < 0) other = 0
        printf "%s %.0f", name, 100 * other / ((w1 - w0) * cores) }')")
}
machine_cpu_seconds() {
  awk -v hz="$clock_ticks" 'NR == 1 { print ($2 + $3 + $4 + $7 + $8 + $9) / hz }' /proc/stat
}
children_cpu_seconds() {
  # The second line of 'times' is the children's user and system time, as 1m2.345s.
  awk 'NR == 2 { s = 0; for (i = 1; i <= 2; i++) { split($i, p, /[ms]/); s += p[1] * 60 + p[2] } print s }'
}
other_cpu=()

# Shows JMH's progress (which fork is running) while the full log goes to a file.
progress() {
  local log="$1" line
  while IFS= read -r line; do
    printf '%s\n' "$line" >>"$log"
    case "$line" in
      "# Parameters:"*) printf '  %s\n' "${line#\# }" >&2 ;;
      *Exception* | *Error:*) printf '  %s\n' "$line" >&2 ;;
    esac
  done
}

jmh() {
  local name="$1"
  shift
  echo "adjoint: $name (log: $out/$name.log)" >&2
  : >"$out/$name.log"
  phase_start
  "$java" --add-modules jdk.incubator.vector --sun-misc-unsafe-memory-access=allow -cp "$jar" \
      org.openjdk.jmh.Main "$name" -p provider=vector,scalar -rf json -rff "$out/$name.json" \
      ${jvm_isa:+-jvmArgsAppend "${jvm_isa[*]}"} "$@" 2>&1 \
    | progress "$out/$name.log" || echo "compare.sh: JMH $name failed; see $out/$name.log" >&2
  phase_end "$name"
}

jmh GemmBench -p shape="$shapes" "${gemm_iterations[@]}"
jmh MlpStepBench "${mlp_iterations[@]}"

echo "peers: NumPy and PyTorch${torch2_python:+ (PyTorch 2: $torch2_python)} (log: $out/peers.log)" >&2
if [[ -n "$torch2_python" ]]; then
  peer_args+=(--torch2-python "$torch2_python")
fi
phase_start
"$PYTHON" -B "$root/bench/peers/peers.py" --shapes "$shapes" "${peer_args[@]}" >"$out/peers.json" 2>"$out/peers.log" \
  || echo "compare.sh: peers.py failed; see $out/peers.log" >&2
phase_end peers

# The same SGEMM shapes once more, Adjoint and OpenBLAS taking turns in one process: JMH and
# NumPy above run minutes apart, and this machine's speed can drift by tens of percent in
# between; turns a few hundred milliseconds apart see the same machine.
interleaved=""
if "$PYTHON" -c 'import ctypes; ctypes.CDLL("libopenblas.so.0")' 2>/dev/null; then
  echo "interleaved with OpenBLAS (log: $out/interleaved.log)" >&2
  phase_start
  interleaved="$("$java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED "${jvm_isa[@]}" -cp "$jar" \
      org.adjoint.bench.InterleavedGemm "$interleaved_rounds" ${shapes//,/ } 2>"$out/interleaved.log")" \
    || echo "compare.sh: InterleavedGemm failed; see $out/interleaved.log" >&2
  phase_end interleaved
fi

say
"$PYTHON" -B "$root/bench/peers/table.py" "$out/GemmBench.json" "$out/MlpStepBench.json" "$out/peers.json" \
  | tee -a "$report"
if [[ -n "$torch2_note" ]]; then
  say "$torch2_note"
fi
say
if [[ -n "$interleaved" ]]; then
  say "SGEMM in one process, Adjoint (vector) and OpenBLAS's cblas_sgemm taking turns"
  say "(bench/gemm-vs-openblas.sh: per-round ratios, median and quartiles):"
  say "$interleaved"
  say
fi
busy_phases=""
for entry in "${other_cpu[@]}"; do
  read -r name percent <<<"$entry"
  if ((percent > 10)); then busy_phases+="${busy_phases:+, }$name $percent%"; fi
done
if [[ -n "$busy_phases" ]]; then
  say "WARNING: other processes used the CPU while this ran ($busy_phases of $cores cores);"
  say "         the affected scores are low and their ratios unreliable: rerun on an idle machine."
else
  say "other processes' CPU use during the run: ${other_cpu[*]/%/%} (of $cores cores)"
fi
elapsed=$((SECONDS - started))
say "compare.sh took $((elapsed / 60)) min $((elapsed % 60)) s"
