#!/usr/bin/env bash
# What a test run skipped, and how much of each module its own tests cover, in two lines read from
# the reports the Maven reactor wrote; `./kvconnect test` prints them at its end:
#   skipped: 16 tests [needs UCX, not available here: ...], 1 test [...]
#   coverage: connector-api 91% lines, connector-core 84% lines, ...
# Usage: scripts/test-summary.sh [STAMP]  only reports newer than the file STAMP count (the run's
# own, not those an earlier run left behind). Reads surefire's target/surefire-reports/TEST-*.xml
# and JaCoCo's target/site/jacoco/jacoco.csv. grep, sed and awk only: CI machines have no python.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
newer=()
if [ $# -gt 0 ]; then
  newer=(-newer "$1")
fi

# The reactor's modules, in build order.
modules() {
  sed -n 's:^ *<module>\(.*\)</module>.*:\1:p' pom.xml
}

# One line per skipped test: its reason. Surefire writes an assumption that failed as the
# exception's text in CDATA ("org.opentest4j.TestAbortedException: Assumption failed: REASON"
# and its stack trace), and a disabled test as <skipped message="REASON"/>.
skip_reasons() {
  local module
  for module in $(modules); do
    [ -d "$module/target/surefire-reports" ] || continue
    find "$module/target/surefire-reports" -name 'TEST-*.xml' "${newer[@]}" -print
  done | while IFS= read -r report; do cat "$report"; done | awk '
    function reason(m) {
      sub(/^Assumption failed: /, "", m)
      sub(/[ \t\r]+$/, "", m)
      return m == "" ? "no reason given" : m
    }
    /<skipped/ {
      if (match($0, /message="[^"]*"/)) {
        m = substr($0, RSTART + 9, RLENGTH - 10)
        gsub(/&quot;/, "\"", m); gsub(/&apos;/, "\047", m); gsub(/&lt;/, "<", m); gsub(/&gt;/, ">", m)
        gsub(/&#10;/, " ", m); gsub(/&amp;/, "\\&", m)
        print reason(m)
      } else if (index($0, "<![CDATA[") > 0) {
        m = substr($0, index($0, "<![CDATA[") + 9)
        sub(/\]\]>.*$/, "", m)
        sub(/^[A-Za-z0-9_$]+(\.[A-Za-z0-9_$]+)+: /, "", m)
        print reason(m)
      } else {
        print reason("")
      }
    }'
}

skip_reasons | sort | uniq -c | sort -rn | awk '
  {
    n = $1
    sub(/^ *[0-9]+ /, "")
    total += n
    line = line (line == "" ? "" : ", ") n (n == 1 ? " test [" : " tests [") $0 "]"
  }
  END { print "skipped: " (total == 0 ? "none" : line) }'

# Lines covered of each module with a coverage report (a module without tests or classes has none).
coverage=""
for module in $(modules); do
  csv="$module/target/site/jacoco/jacoco.csv"
  [ -f "$csv" ] || continue
  if [ ${#newer[@]} -gt 0 ] && [ -z "$(find "$csv" "${newer[@]}" -print)" ]; then
    continue
  fi
  # Columns: GROUP,PACKAGE,CLASS,INSTRUCTION_MISSED,INSTRUCTION_COVERED,BRANCH_MISSED,BRANCH_COVERED,
  # LINE_MISSED,LINE_COVERED,...
  pct="$(awk -F, 'NR > 1 { missed += $8; covered += $9 }
    END { if (missed + covered > 0) printf "%d%%", 100 * covered / (missed + covered); else print "n/a" }' "$csv")"
  coverage="${coverage:+$coverage, }$module $pct lines"
done
echo "coverage: ${coverage:-no reports (the tests did not run, or -Djacoco.skip=true)}"
