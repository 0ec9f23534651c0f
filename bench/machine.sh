#!/usr/bin/env bash
# Prints what a benchmark figure depends on, one "key: value" line each, for the header of
# bench/compare.sh: the CPU model and count, its vector instruction sets, its caches, the
# JDK, and the CPU kernel configuration Adjoint chooses on it (org.adjoint.bench.KernelInfo).
#
# Usage: bench/machine.sh [JAVA [JAR [JVM_OPTION...]]]
#   JAVA        the java to describe and run KernelInfo with (default: java on PATH)
#   JAR         bench/target/adjoint.jar by default; without it the kernels line is left out
#   JVM_OPTION  options the benchmark runs with (e.g. -Dadjoint.cpu.vectorBits=128), which
#               change the kernels chosen
# Linux reads /proc/cpuinfo and /sys/devices/system/cpu/cpu0/cache; elsewhere lscpu where
# there is one, else "unknown".
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
java="${1:-$(command -v java || true)}"
jar="${2:-$root/bench/target/adjoint.jar}"
shift $(($# < 2 ? $# : 2))

# Model name: x86's "model name", else lscpu's (ARM's "Model name" is the core, e.g. Neoverse-N1).
model="$(sed -n 's/^model name[[:space:]]*: *//p' /proc/cpuinfo 2>/dev/null | head -n 1)"
if [[ -z "$model" ]] && command -v lscpu >/dev/null; then
  model="$(lscpu | sed -n 's/^Model name: *//p' | head -n 1)"
fi
echo "cpu:      ${model:-unknown CPU}, $(nproc) CPUs online, $(uname -m)"

# The vector extensions the kernels can use: x86 "flags", ARM "Features".
flags=" $(grep -m 1 -E '^(flags|Features)' /proc/cpuinfo 2>/dev/null | sed 's/^[^:]*: *//') "
isa=""
for flag in sse4_2 avx avx2 fma f16c avx512f avx512dq avx512bw avx512vl avx512_vnni avx512_bf16 avx512_fp16 \
    amx_tile asimd asimdhp asimddp sve sve2 sme; do
  if [[ "$flags" == *" $flag "* ]]; then isa+="${isa:+ }$flag"; fi
done
[[ "$flags" == *" avx512f "* || "$(uname -m)" != x86_64 ]] || isa+=" (no avx512f)"
echo "isa:      ${isa:-unknown}"

# Per cache of cpu0: its size, and how many CPUs share it ("per core" when only this one).
caches=()
for index in /sys/devices/system/cpu/cpu0/cache/index*; do
  [[ -r "$index/size" ]] || continue
  level="$(<"$index/level")"
  type="$(<"$index/type")"
  [[ "$type" == Instruction ]] && continue
  name="L$level"
  [[ "$type" == Data ]] && name+=d
  shared="$(awk -F, '{ n = 0; for (i = 1; i <= NF; i++) { split($i, r, "-"); n += (r[2] == "" ? 1 : r[2] - r[1] + 1) } print n }' \
    "$index/shared_cpu_list")"
  size="$(<"$index/size")"
  case "$size" in
    *K) size="${size%K}"; if ((size % 1024 == 0)); then size="$((size / 1024)) MiB"; else size+=" KiB"; fi ;;
    *M) size="${size%M} MiB" ;;
  esac
  if ((shared == 1)); then caches+=("$name $size per core"); else caches+=("$name $size shared by $shared CPUs"); fi
done
if ((${#caches[@]} == 0)) && command -v lscpu >/dev/null; then
  # No sysfs (or a VM that hides it): lscpu's totals, e.g. "L2 cache: 2 MiB (2 instances)".
  mapfile -t caches < <(lscpu | sed -n 's/^\(L[123][di]*\) cache: *\(.*\)/\1 \2/p' | grep -v '^L1i')
fi
caches_text="$(printf '%s, ' "${caches[@]}")"
echo "caches:   ${caches_text%, }"

if [[ -n "$java" && -x "$java" ]]; then
  echo "java:     $("$java" -version 2>&1 | head -n 1) ($java)"
  if [[ -f "$jar" ]]; then
    # KernelInfo's "key: value" lines, indented under "kernels:".
    info="$("$java" --add-modules jdk.incubator.vector "$@" -cp "$jar" org.adjoint.bench.KernelInfo 2>/dev/null)" \
      || info=""
    if [[ -n "$info" ]]; then
      sed '1s/^/kernels:  /; 2,$s/^/          /' <<<"$info"
    else
      echo "kernels:  unknown (org.adjoint.bench.KernelInfo failed with $java)"
    fi
  fi
else
  echo "java:     not found"
fi
