#!/usr/bin/env bash
# Two builds of Adjoint (two adjoint.jar files) training the GPT in one process, taking turns
# a few iterations at a time (org.adjoint.bench.GptTurns): the steadier way to see what a
# change does to the iteration on a machine whose speed drifts. The losses' bits are compared
# after every pair of turns. Build the old jar first, e.g. from a clone at the older commit
# (./mvnw -q -DskipTests package -pl bench -am, then copy bench/target/adjoint.jar aside).
#
# Usage: bench/gpt-turns.sh OLD.jar NEW.jar [WARM-UP [TURNS [ITERATIONS]]]
#        (defaults 15 warm-up pairs, 20 timed pairs, 20 iterations a turn: about 75 s on a
#        2-core Zen 3). Run it twice with the jars swapped: the geometric mean of NEW/OLD and
#        of the swapped run's inverse is the figure to report.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
source "$root/bench/adjoint-jar.sh"
adjoint_jar gpt-turns.sh
# The JIT thresholds of ./adjoint (see its comment): the Vector API's own methods compile later.
exec "$java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED \
  -XX:CompileCommand=quiet \
  "-XX:CompileCommand=CompileThresholdScaling,jdk.incubator.vector.*::*,10.0" \
  "-XX:CompileCommand=CompileThresholdScaling,jdk.internal.vm.vector.*::*,10.0" \
  -cp "$jar" org.adjoint.bench.GptTurns "$@"
