#!/usr/bin/env bash
# Coverage-guided fuzzing of the sensor with AFL++ and SharpFuzz, the way Suricata and Zeek are
# fuzzed under OSS-Fuzz: each target runs for FUZZ_SECONDS, one after another, and the run fails
# when any target saved a crash or a hang.
#
#   scripts/fuzz.sh                        every target (pcap mail sasl), FUZZ_SECONDS each (default 60)
#   FUZZ_SECONDS=600 scripts/fuzz.sh mail  one target, ten minutes
#
# Output: artifacts/fuzz/<target>/default/ (AFL++'s queue, crashes/, hangs/, fuzzer_stats),
# artifacts/fuzz/summary.txt (one line per target). Needs afl++ (scripts/install-deps.sh fuzz).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${FUZZ_SECONDS:-60}
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(pcap mail sasl)
root=$PWD
out=$root/artifacts/fuzz
bin=$out/bin
# Instrumented code only runs under afl-fuzz; crashes are replayed with the plain build.
replay=$root/tests/Sensor.Fuzz/bin/Release/net10.0/Sensor.Fuzz.dll

command -v afl-fuzz >/dev/null || { echo "fuzz: afl-fuzz not found (scripts/install-deps.sh fuzz installs afl++)" >&2; exit 1; }
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

# Instrumenting an assembly twice fails: always publish into a clean folder, then instrument the
# sensor's own assemblies there (not the harness, not the framework or third-party packages).
echo "== fuzz: publishing and instrumenting tests/Sensor.Fuzz"
rm -rf "$bin"
dotnet tool restore >/dev/null
dotnet publish tests/Sensor.Fuzz/Sensor.Fuzz.csproj -c Release -o "$bin" -nologo -v quiet -clp:NoSummary >/dev/null
for assembly in Sensor.Core Sensor.Capture Sensor.Outputs; do
  dotnet sharpfuzz "$bin/$assembly.dll" >/dev/null
done

# The pcap target writes each input to a file: keep it in memory, and remove it afterwards.
scratch=$(mktemp -d "${TMPDIR:-/tmp}/sensor-fuzz.XXXXXX")
[ -d /dev/shm ] && [ -w /dev/shm ] && { rmdir "$scratch"; scratch=$(mktemp -d /dev/shm/sensor-fuzz.XXXXXX); }
trap 'rm -rf "$scratch"' EXIT

seeds() {
  local target=$1 dir=$out/seeds/$1
  rm -rf "$dir"
  mkdir -p "$dir"
  if [ "$target" = pcap ]; then
    # The bundled captures, each file once (names made unique by their folder).
    find pcaps -type f \( -name '*.pcap' -o -name '*.pcapng' \) -size -64k | sort | while read -r f; do
      cp "$f" "$dir/$(echo "${f#pcaps/}" | tr / _)"
    done
  else
    cp tests/Sensor.Fuzz/seeds/"$target"/* "$dir/"
  fi
  # Inputs that once crashed stay in the corpus: AFL++ starts from them as well.
  if [ -d tests/Sensor.Fuzz/regressions/"$target" ]; then
    for f in tests/Sensor.Fuzz/regressions/"$target"/*; do
      [ -f "$f" ] && [ "${f##*.}" != md ] && cp "$f" "$dir/regression-$(basename "$f")"
    done
  fi
  echo "$dir"
}

stat_of() { sed -n "s/^$2 *: *//p" "$1" | head -n1; }

failed=()
: > "$out/summary.txt"
for target in "${targets[@]}"; do
  case $target in pcap|mail|sasl) ;; *) echo "fuzz: unknown target '$target' (pcap, mail, sasl)" >&2; exit 2 ;; esac
  input=$(seeds "$target")
  result=$out/$target
  rm -rf "$result"
  dict=()
  [ -f tests/Sensor.Fuzz/dict/$target.dict ] && dict=(-x "tests/Sensor.Fuzz/dict/$target.dict")
  echo "== fuzz: $target for ${seconds}s (output in ${result#$root/})"
  status=0
  AFL_SKIP_BIN_CHECK=1 AFL_NO_UI=1 AFL_NO_AFFINITY=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_SKIP_CPUFREQ=1 \
    SENSOR_FUZZ_TMP=$scratch \
    afl-fuzz -i "$input" -o "$result" -t 5000 -m none -V "$seconds" "${dict[@]}" -- dotnet "$bin/Sensor.Fuzz.dll" "$target" \
    > "$out/$target.log" 2>&1 || status=$?
  stats=$result/default/fuzzer_stats
  if [ ! -f "$stats" ]; then
    echo "fuzz: $target: afl-fuzz stopped before fuzzing (exit $status); the end of $out/$target.log:" >&2
    tail -n 25 "$out/$target.log" >&2
    failed+=("$target")
    continue
  fi
  crashes=$(stat_of "$stats" saved_crashes); crashes=${crashes:-$(stat_of "$stats" unique_crashes)}
  hangs=$(stat_of "$stats" saved_hangs); hangs=${hangs:-$(stat_of "$stats" unique_hangs)}
  line=$(printf '%-5s execs=%s execs/s=%s corpus=%s edges=%s bitmap_cvg=%s crashes=%s hangs=%s run_time=%ss' "$target" \
    "$(stat_of "$stats" execs_done)" "$(stat_of "$stats" execs_per_sec)" "$(stat_of "$stats" corpus_count)" \
    "$(stat_of "$stats" edges_found)" "$(stat_of "$stats" bitmap_cvg)" "$crashes" "$hangs" "$(stat_of "$stats" run_time)")
  echo "$line" | tee -a "$out/summary.txt"
  if [ "${crashes:-0}" != 0 ] || [ "${hangs:-0}" != 0 ]; then
    failed+=("$target")
    echo "fuzz: $target FAILED: $crashes crash(es), $hangs hang(s):" >&2
    n=0
    for f in "$result"/default/crashes/id:* "$result"/default/hangs/id:*; do
      [ -f "$f" ] || continue
      n=$((n + 1))
      if [ $n -gt 20 ]; then echo "  ... (all in ${result#$root/}/default/crashes and hangs)" >&2; break; fi
      echo "  ${f#$root/}" >&2
      # What a crash throws, replayed without AFL (the harness's and the sensor's messages never hold a secret).
      case $f in */crashes/*)
        [ $n -le 5 ] && { SENSOR_FUZZ_TMP=$scratch dotnet "$replay" "$target" "$f" 2>&1 | grep -v '^   at ' | head -n 2 | sed 's/^/      /' >&2 || true; } ;;
      esac
    done
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: FAILED: ${failed[*]} (replay an input: dotnet ${replay#$root/} TARGET FILE)" >&2
  exit 1
fi
echo "fuzz: no crash and no hang in ${targets[*]}"
