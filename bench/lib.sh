# Shared by the bench/ scripts (sourced, not run).

# build_release: the sensor and the capture generator, Release (incremental, a few seconds when up
# to date); skipped with NO_BUILD=1.
build_release() {
  [ -n "${NO_BUILD:-}" ] && return 0
  local proj log
  for proj in src/Sensor/Sensor.csproj tests/Sensor.CaptureGenerator/Sensor.CaptureGenerator.csproj; do
    if ! log=$(dotnet build "$proj" -c Release -v q -nologo 2>&1); then
      echo "$log" >&2
      echo "build of $proj failed" >&2
      exit 1
    fi
  done
}

# sensor_binary: the sensor the benchmark times, by SENSOR_BUILD: "aot" (default), the Native AOT
# binary `make package` ships (scripts/package.sh publish: about 2.5 minutes; with NO_BUILD=1 the one
# already in artifacts/), or "jit", the framework-dependent Release build the tests run. Prints its path.
sensor_binary() {
  local root=${ROOT:?}
  case ${SENSOR_BUILD:-aot} in
    jit) echo "$root/src/Sensor/bin/Release/net10.0/sensor" ;;
    aot)
      local bin=${ARTIFACTS:-$root/artifacts}/publish/linux-x64/sensor
      if [ -z "${NO_BUILD:-}" ] || [ ! -x "$bin" ]; then
        "$root/scripts/package.sh" publish >/dev/null || { echo "Native AOT publish failed" >&2; exit 1; }
      fi
      echo "$bin" ;;
    *) echo "SENSOR_BUILD must be aot or jit, not '$SENSOR_BUILD'" >&2; exit 2 ;;
  esac
}
