#!/usr/bin/env bash
# JShell with gpt4j on the class path and the notebooks' imports and helpers loaded.
#   ./notebooks/jshell.sh                                  an interactive session
#   ./notebooks/jshell.sh notebooks/ch02-tokenization.jsh  run a notebook (it ends with /exit)
# Needs a build first (mvn -q -B -DskipTests package). Works on JDK 17 and 21+: the -R flags go to the JVM that
# runs the snippets (--enable-native-access keeps JDK 21+ quiet when ND4J loads its native libraries).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
jar="$root/cli/target/gpt4j.jar"
classpath="$root/cli/target/classpath"
if [[ ! -f "$jar" || ! -f "$classpath" ]]; then
  echo "jshell.sh: not built yet; run this first in $root:  mvn -q -B -DskipTests package" >&2
  exit 2
fi
cp="$jar:$(cat "$classpath")"
jshell="${JAVA_HOME:+$JAVA_HOME/bin/}jshell"
exec "$jshell" --class-path "$cp" \
  -R--enable-native-access=ALL-UNNAMED -R-Xmx3g -R-Dorg.bytedeco.javacpp.maxphysicalbytes=8G \
  -R-Dgpt4j.home="$root" -R-Djava.awt.headless=true \
  --startup DEFAULT --startup "$root/notebooks/startup.jsh" "$@"
