#!/usr/bin/env bash
# Prepares, on this machine, what bench/gpu/run.sh needs on a GPU machine that has no Java
# and no Maven: a small Java runtime made with jlink, the command-line jar, and the jars and
# classes of the cuda-backend GPU tests with the JUnit console launcher. Everything lands in
# bench/target/gpu (about 60 MiB); carry that folder to the device with the working tree.
#
# Usage: bench/gpu/prepare.sh    (then, on the device: bench/gpu/run.sh OUT_DIR)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)"
export JAVA_HOME="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"
out="$root/bench/target/gpu"
junit_platform=1.14.4

cd "$root"
./mvnw -q -B -DskipTests install
rm -rf "$out"
mkdir -p "$out/lib" "$out/tests"
./mvnw -q -B -pl cuda-backend dependency:copy-dependencies -DincludeScope=test -DoutputDirectory="$out/lib"
./mvnw -q -B dependency:copy -Dartifact="org.junit.platform:junit-platform-console-standalone:$junit_platform" \
  -DoutputDirectory="$out"
cp cuda-backend/target/adjoint-cuda-backend-*.jar "$out/lib/"
cp -r cuda-backend/target/test-classes/. "$out/tests/"
cp bench/target/adjoint.jar "$out/"
# java.logging for the selection log lines, java.management for JMH-style MX beans, java.xml
# for the JUnit launcher's reports, jdk.incubator.vector for the CPU reference runs.
"$JAVA_HOME/bin/jlink" --add-modules java.base,java.logging,java.management,java.naming,java.xml,jdk.incubator.vector,jdk.unsupported \
  --strip-debug --no-man-pages --no-header-files --compress zip-6 --output "$out/jre"
du -sh "$out"
