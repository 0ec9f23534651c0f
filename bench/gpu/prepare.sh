#!/usr/bin/env bash
# Prepares, on this machine, what bench/gpu/run.sh needs on a GPU machine that has no Java
# and no Maven: a small Java runtime made with jlink, the jars of the backend and its GPU
# tests, the bench classes and the JUnit console launcher. Everything lands in
# bench/target/gpu (about 45 MiB; the script fails above 60 MiB, since the device tool
# carries at most 64 MiB of ignored files); carry that folder to the device with the tree.
#
# Usage: bench/gpu/prepare.sh    (then, on the device: bench/gpu/run.sh OUT_DIR)
#        MAVEN_ARGS=-o bench/gpu/prepare.sh    (offline, once the local repository has everything)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)"
export JAVA_HOME="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"
out="$root/bench/target/gpu"
# The launcher of the JUnit Platform that matches JUnit Jupiter 5.14.4 (the parent pom's junit.version).
junit_platform=1.14.4
limit_mib=60
# What the GPU tests and GpuBench use (jdeps over the jars below): java.logging (JCuda, the
# backend's log line), java.management (the kernels' and the CPU backend's thread counts),
# java.compiler (RandomProgramConformance names javax.tools; without jdk.compiler, its one
# test that compiles printed programs is skipped), jdk.incubator.vector (the CPU reference),
# jdk.jfr (Flight Recorder, to profile the host side on the device).
modules=java.base,java.logging,java.management,java.compiler,jdk.incubator.vector,jdk.jfr

cd "$root"
./mvnw -q -B -DskipTests install
rm -rf "$out"
mkdir -p "$out/lib" "$out/tests"
# The console launcher is a standalone jar with JUnit Jupiter in it: the JUnit jars the tests
# compile against would only repeat it on the class path.
./mvnw -q -B -pl cuda-backend dependency:copy-dependencies -DincludeScope=test -DoutputDirectory="$out/lib" \
  -DexcludeGroupIds=org.junit.jupiter,org.junit.platform,org.opentest4j,org.apiguardian
./mvnw -q -B -N dependency:copy -Dartifact="org.junit.platform:junit-platform-console-standalone:$junit_platform" \
  -DoutputDirectory="$out"
mv "$out/junit-platform-console-standalone-$junit_platform.jar" "$out/junit-console.jar"
cp cuda-backend/target/adjoint-cuda-backend-*.jar "$out/lib/"
cp -r cuda-backend/target/test-classes/. "$out/tests/"
# The thin bench jar: GpuBench needs only the jars in lib, not the command line's fat jar.
cp bench/target/adjoint-bench-*.jar "$out/adjoint-bench.jar"

# JCuda's natives jar carries the PTX compiler's JNI library (24 MB, unused here: NVRTC
# compiles the kernels); leave it out of the copy.
natives=("$out"/lib/jcuda-natives-*-linux-x86_64.jar)
unpacked="$out/jcuda-natives"
mkdir "$unpacked"
(cd "$unpacked" && "$JAVA_HOME/bin/jar" xf "${natives[0]}" && rm -f lib/libJNvPTXCompiler-*.so \
  && "$JAVA_HOME/bin/jar" cfM "${natives[0]}" .)
rm -rf "$unpacked"

if ! "$JAVA_HOME/bin/jlink" --add-modules "$modules" --strip-debug --no-man-pages --no-header-files \
    --compress zip-9 --output "$out/jre" > "$out/jlink.log" 2>&1; then
  cat "$out/jlink.log" >&2
  exit 1
fi
rm "$out/jlink.log"
"$out/jre/bin/java" -version 2>&1 | head -1

size_kib=$(du -sk "$out" | cut -f1)
echo "bench/target/gpu: $((size_kib / 1024)) MiB"
if [ "$size_kib" -gt $((limit_mib * 1024)) ]; then
  echo "prepare.sh: bench/target/gpu is over $limit_mib MiB; the device tool would not carry it" >&2
  exit 1
fi
