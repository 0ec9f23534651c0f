# Sourced by bench/compare.sh, bench/train-compare.sh and bench/lm-compare.sh: finds a Python
# with PyTorch 2.x, the peer a Python user would pick today, which cannot share an interpreter
# with the distribution's PyTorch 1.13; run_peers and print_machine (at the end) are the
# steps the training comparisons share.
#
#   find_torch2 PYTHON VENV LOG
#
# sets torch2_python to the interpreter, or leaves it empty and sets torch2_note to why
# (also when it is PYTHON itself, whose PyTorch runs as the first peer already):
#   - TORCH2_PYTHON, when set: that interpreter (TORCH2_PYTHON=none, or empty: none);
#   - else VENV/bin/python, when it imports a PyTorch 2.x;
#   - else VENV, created with PYTHON -m venv and filled with torch and numpy from a local
#     torch-2.*.whl and its dependencies (pip --no-index), in the folders TORCH2_WHEELS
#     (separated by ':', default /opt/wheels:/opt/pypi/files); about a minute, logged to LOG.
# Returns 1, with a message on standard error, when TORCH2_PYTHON names an interpreter that
# cannot import a PyTorch 2.x: asked for by name, it must not silently drop out.

imports_torch2() {
  "$1" -c 'import sys, torch; sys.exit(int(torch.__version__.split(".")[0]) < 2)' 2>/dev/null
}

# Whether two interpreters are one Python installation (a venv's python is a link to its
# base interpreter, so the files cannot tell; the prefixes can).
same_python() {
  [[ "$("$1" -c 'import sys; print(sys.prefix)' 2>/dev/null)" == "$("$2" -c 'import sys; print(sys.prefix)' 2>/dev/null)" ]]
}

find_torch2() {
  local python="$1" venv="$2" log="$3" wheel="" dir file
  local default_wheels=/opt/wheels:/opt/pypi/files
  local -a wheels=() wheel_dirs=()
  torch2_python=""
  torch2_note=""
  if [[ -n "${TORCH2_PYTHON+set}" ]]; then
    if [[ "$TORCH2_PYTHON" == none || -z "$TORCH2_PYTHON" ]]; then
      torch2_note="PyTorch 2: not run (TORCH2_PYTHON=${TORCH2_PYTHON:-''})"
    elif same_python "$TORCH2_PYTHON" "$python"; then
      torch2_note="PyTorch 2: runs as the first PyTorch peer (TORCH2_PYTHON is PYTHON, $python)"
    elif imports_torch2 "$TORCH2_PYTHON"; then
      torch2_python="$TORCH2_PYTHON"
    else
      echo "${0##*/}: TORCH2_PYTHON=$TORCH2_PYTHON cannot import a PyTorch 2.x (torch);" \
        "point it at a Python that can, or set TORCH2_PYTHON=none" >&2
      return 1
    fi
    return 0
  fi
  if imports_torch2 "$python"; then
    torch2_note="PyTorch 2: runs as the first PyTorch peer (PYTHON=$python has it)"
    return 0
  fi
  if imports_torch2 "$venv/bin/python"; then
    torch2_python="$venv/bin/python"
    return 0
  fi
  IFS=: read -r -a wheel_dirs <<<"${TORCH2_WHEELS:-$default_wheels}"
  for dir in "${wheel_dirs[@]}"; do
    if [[ -d "$dir" ]]; then wheels+=(--find-links "$dir"); fi
    for file in "$dir"/torch-2.*.whl; do
      if [[ -z "$wheel" && -f "$file" ]]; then wheel="$file"; fi
    done
  done
  if [[ -z "$wheel" ]]; then
    torch2_note="PyTorch 2: not run (no TORCH2_PYTHON, no $venv, no torch-2.*.whl in ${TORCH2_WHEELS:-$default_wheels})"
    return 0
  fi
  echo "${0##*/}: installing ${wheel##*/} and NumPy into $venv (log: $log) ..." >&2
  rm -rf "$venv"
  if "$python" -m venv "$venv" >"$log" 2>&1 \
      && "$venv/bin/pip" install --no-index "${wheels[@]}" torch numpy >>"$log" 2>&1 \
      && imports_torch2 "$venv/bin/python"; then
    torch2_python="$venv/bin/python"
  else
    torch2_note="PyTorch 2: not run (installing ${wheel##*/} into $venv failed; see $log)"
    echo "${0##*/}: $torch2_note" >&2
  fi
}

# Runs a peer script with each PyTorch found: $python into $out/torch.json and, when
# find_torch2 found one, $torch2_python into $out/torch2.json. A PyTorch that cannot run
# leaves {} and a line in the caller's `notes` array. Needs root, out, python, notes.
# Usage: begin_round R   (of $rounds): sets round_suffix, which names every output of round R
# (empty for a single round, .R for one of several), and says which round starts.
begin_round() {
  round_suffix=""
  if ((rounds > 1)); then
    round_suffix=".$1"
    echo "round $1 of $rounds" >&2
  fi
}

# Usage: run_peers SCRIPT [ARG...]   (SCRIPT in bench/peers); each peer's JSON goes to
# $out/NAME$round_suffix.json (round_suffix: empty, or .R for round R of several).
run_peers() {
  local script="$1" name peer_python
  shift
  for name in torch torch2; do
    if [[ "$name" == torch ]]; then peer_python="$python"; else peer_python="$torch2_python"; fi
    if [[ -z "$peer_python" ]]; then
      echo '{}' > "$out/$name${round_suffix:-}.json"
      if [[ -n "$torch2_note" ]]; then notes+=("$torch2_note"); fi
      continue
    fi
    echo "pytorch ($peer_python): bench/peers/$script $*" >&2
    if "$peer_python" -c "import torch" 2>/dev/null; then
      "$peer_python" -B "$root/bench/peers/$script" "$@" > "$out/$name${round_suffix:-}.json" \
        || { echo "pytorch ($peer_python) failed" >&2; echo '{}' > "$out/$name${round_suffix:-}.json"; }
    else
      notes+=("PyTorch from $peer_python: not run, it cannot import torch (Debian: apt-get install python3-torch)")
      echo '{}' > "$out/$name${round_suffix:-}.json"
    fi
  done
}

# The machine and the kernel configuration `./adjoint` runs with (the java it picks, and the
# options of JAVA_OPTS and ADJOINT_JAVA_OPTS that change the kernels), printed and kept in
# $out/machine.txt. Needs root and out.
print_machine() {
  local java
  if [[ -n "${JAVA_HOME:-}" ]]; then
    java="$JAVA_HOME/bin/java"
  elif [[ -x /usr/lib/jvm/temurin-25-jdk-amd64/bin/java ]]; then
    java=/usr/lib/jvm/temurin-25-jdk-amd64/bin/java
  else
    java="$(command -v java || true)"
  fi
  local -a java_options
  read -r -a java_options <<<"${JAVA_OPTS:-} ${ADJOINT_JAVA_OPTS:-}"
  "$root/bench/machine.sh" "$java" "" "${java_options[@]}" | tee "$out/machine.txt"
}
