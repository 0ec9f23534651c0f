#!/usr/bin/env bash
# Builds, with gcc, the CPU stand-ins for libcuda.so.1, cuBLAS, NVRTC and cuDNN that the cuda-backend
# tests use (FakeDriverTest; sources in cuda-backend/src/test/resources/org/adjoint/cuda/fake)
# into DIR, for a dry run of bench/gpu/run.sh on a machine without a GPU. CUDA 13's names by
# default (the java.lang.foreign bindings are chosen, as on the device); with "12", CUDA 12's
# names and symbol versions (JCublas2 and JNvrtc load).
#
# Usage: bench/gpu/fake_libs.sh DIR [13|12]
#        ADJOINT_GPU_DRY_RUN_LIBS=DIR bench/gpu/run.sh OUT_DIR
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)"
dir="${1:?usage: bench/gpu/fake_libs.sh DIR [13|12]}"
version="${2:-13}"
sources="$root/cuda-backend/src/test/resources/org/adjoint/cuda/fake"
case "$version" in
  12|13) ;;
  *) echo "fake_libs.sh: CUDA version '$version' is not 12 or 13" >&2; exit 2 ;;
esac

mkdir -p "$dir"
gcc -O1 -shared -fPIC -o "$dir/libcuda.so.1" "$sources/fake_driver.c" -lm
for library in cublas nvrtc; do
  name="lib$library.so.$version"
  versioning=()
  if [ "$version" = 12 ]; then
    # JCuda's JNI libraries ask for symbols of version libcublas.so.12 / libnvrtc.so.12.
    echo "$name { global: *; };" > "$dir/$library.map"
    versioning=(-Wl,-soname,"$name" -Wl,--version-script="$dir/$library.map")
  fi
  gcc -O1 -shared -fPIC -o "$dir/$name" "$sources/fake_$library.c" -lm "${versioning[@]}"
done
# cuDNN 9 (the backend's convolutions go through it; without it, the im2col path), built for
# the same CUDA major as the fake cuBLAS (the backend refuses a cuDNN of another).
gcc -O1 -shared -fPIC -o "$dir/libcudnn.so.9" "$sources/fake_cudnn.c" -lm -DFAKE_CUDNN_CUDART_DEFAULT="${version}000"
echo "fake CUDA $version libraries in $dir: $(cd "$dir" && ls -- *.so.*)"
