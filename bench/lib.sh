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
