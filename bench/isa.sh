# Sourced by bench/compare.sh and bench/train-compare.sh: restrict_isa NAME ISA makes this
# machine run as one with only ISA, for Adjoint and every peer alike. With ISA empty it does
# nothing. With avx2 (on an AVX-512 CPU, to stand in for an AVX2-only one):
#   jvm_isa       the JVM options for Adjoint: -XX:UseAVX=2 (C2 then has 16 ymm registers
#                 and no EVEX, as on an AVX2-only CPU, so the kernels choose the 4 x 16 tile)
#   exported      OPENBLAS_CORETYPE=Haswell (NumPy's and PyTorch 1.13's OpenBLAS),
#                 ATEN_CPU_CAPABILITY=avx2, MKL_ENABLE_INSTRUCTIONS=AVX2 and
#                 ONEDNN_MAX_CPU_ISA=AVX2 (PyTorch 2's own kernels, MKL and oneDNN)
#   isa_note      one line for the report's header
# What it cannot change: the caches (an AVX-512 part's L2 is often twice an AVX2 part's) and
# the clock, so figures taken this way must be confirmed on a real AVX2-only CPU.
jvm_isa=()
isa_note=""
restrict_isa() {
  local name="$1" isa="$2"
  case "$isa" in
    "") return 0 ;;
    avx2)
      jvm_isa=(-XX:UseAVX=2)
      export OPENBLAS_CORETYPE=Haswell ATEN_CPU_CAPABILITY=avx2 MKL_ENABLE_INSTRUCTIONS=AVX2 ONEDNN_MAX_CPU_ISA=AVX2
      isa_note="AVX2 emulated on this CPU: Adjoint -XX:UseAVX=2; OpenBLAS Haswell kernels; PyTorch ATEN_CPU_CAPABILITY=avx2, MKL and oneDNN AVX2"
      if ! grep -q -m 1 -w avx512f /proc/cpuinfo 2>/dev/null; then
        isa_note="AVX2 (this CPU has no AVX-512: --isa avx2 changes nothing)"
      fi
      ;;
    *)
      echo "$name: --isa must be avx2, got '$isa'" >&2
      return 1
      ;;
  esac
}
