# Finding a JDK >= 25, shared by ./kvconnect and scripts/run-benchmarks.sh (sourced, not run).
# Looks at JAVA_HOME, then /usr/lib/jvm/*, then `java` on PATH; nobody has to set JAVA_HOME.

MIN_JAVA=25

java_major() { # $1 = java executable; prints its feature version or nothing
  "$1" -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/ {print $2; exit}'
}

find_jdk() {
  local candidates=() c v
  [ -n "${JAVA_HOME:-}" ] && candidates+=("$JAVA_HOME")
  for c in /usr/lib/jvm/*; do candidates+=("$c"); done
  if command -v java >/dev/null 2>&1; then
    candidates+=("$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")")
  fi
  for c in "${candidates[@]}"; do
    [ -x "$c/bin/java" ] && [ -x "$c/bin/javac" ] || continue
    v="$(java_major "$c/bin/java")"
    if [ -n "$v" ] && [ "${v%%.*}" -ge "$MIN_JAVA" ] 2>/dev/null; then
      echo "$c"
      return 0
    fi
  done
  return 1
}

use_jdk() { # $1 = name for messages; exports JAVA_HOME and PATH for the JDK found, or exits 1
  local jdk
  jdk="$(find_jdk)" || {
    echo "$1: no JDK >= $MIN_JAVA found (looked at JAVA_HOME, /usr/lib/jvm/*, java on PATH)." >&2
    echo "$1: install one (for example Temurin 25) and run again." >&2
    exit 1
  }
  export JAVA_HOME="$jdk"
  export PATH="$JAVA_HOME/bin:$PATH"
}
