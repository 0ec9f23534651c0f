# Sourced by bench/gpu/run.sh and bench/gpu/profile_lm.sh: where PyTorch's NVIDIA wheels keep
# cuBLAS, NVRTC and cuDNN (a CUDA 13 machine may have no toolkit), asked of a Python, which knows
# its own site-packages wherever its environment lives.
#
#   nvidia_wheel_libraries PYTHON
#
# prints the wheels' lib folders joined by ':' (nothing when there are none, or no such Python);
# the backend looks in them (-Dadjoint.cuda.libraryPath) after the dynamic linker's search.
nvidia_wheel_libraries() {
  "$1" -c '
import glob, os, site
roots = list(site.getsitepackages()) + [site.getusersitepackages()]
folders = []
for root in roots:
    folders += sorted(glob.glob(os.path.join(root, "nvidia", "*", "lib")), reverse=True)
print(os.pathsep.join(folders))
' 2>/dev/null || true
}
