#!/usr/bin/env bash
# Adds up the TRX result files of one `dotnet test` run and prints the plain closing line
# "N passed, N failed, N skipped" that CI reads.
set -euo pipefail
dir=${1:-artifacts/test-results}
passed=0; failed=0; total=0
for f in "$dir"/*.trx; do
  [ -e "$f" ] || continue
  line=$(grep -o '<Counters [^>]*>' "$f" | head -1)
  t=$(sed -n 's/.* total="\([0-9]*\)".*/\1/p' <<<"$line")
  p=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$line")
  fl=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$line")
  total=$((total + ${t:-0})); passed=$((passed + ${p:-0})); failed=$((failed + ${fl:-0}))
done
skipped=$((total - passed - failed))
echo "Tests: $passed passed, $failed failed, $skipped skipped"
