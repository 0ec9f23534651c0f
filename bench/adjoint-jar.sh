# Sourced by the bench scripts that run a class of bench/target/adjoint.jar directly.
# adjoint_jar NAME: sets jar (the repository's bench/target/adjoint.jar; $root must be the
# repository) and java (JAVA_HOME's, else the Temurin 25 install's, else the one on PATH),
# and builds the jar first when it is missing, saying so as NAME.
adjoint_jar() {
  local name="$1"
  jar="$root/bench/target/adjoint.jar"
  if [[ -z "${JAVA_HOME:-}" && -x /usr/lib/jvm/temurin-25-jdk-amd64/bin/java ]]; then
    export JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64
  fi
  java="${JAVA_HOME:+$JAVA_HOME/bin/}java"
  if [[ ! -f "$jar" ]]; then
    echo "$name: building $jar ..." >&2
    (cd "$root" && ./mvnw -q -B -DskipTests package -pl bench -am) >&2
  fi
}
