#!/usr/bin/env bash
# Packaging the sensor (`make package`, `make install`).
#
#   scripts/package.sh deb       artifacts/mail-sensor_<version>_amd64.deb
#   scripts/package.sh install   PREFIX (default /usr/local), DESTDIR, SYSCONFDIR (default PREFIX/etc),
#                                NO_PUBLISH=1 to install the last published binary
#   scripts/package.sh version   the Debian version this tree gets
#   scripts/package.sh publish   only the Native AOT binary, ARTIFACTS/publish/linux-x64/sensor (bench/)
# ARTIFACTS (default artifacts/) is where the publish output, the staging root and the .deb go.
#
# The binary is Native AOT: `dotnet publish -r linux-x64 -p:PublishAot=true`, one 19 MB native file
# (its symbols apart in sensor.dbg, not packaged) that needs no .NET on the host, only libc and, for
# `run`, libpcap; the .deb is 9 MB. Measured 2026-12-01 on the shared 2-core VM (load average about 1),
# 15 interleaved runs, best/median: `sensor --version` 18/23 ms (framework-dependent build 144/168 ms,
# the same with ReadyToRun 100/117 ms); `sensor read` of a 30 KB capture 20/26 ms (JIT 359/441 ms,
# ReadyToRun 230/291 ms). It is also faster on a long read: 450 MB, 826,000 packets
# (`capture-gen --sessions 20000 --seed 1`) in 0.90-1.01 s against 1.75-1.95 s for the JIT build, peak
# RSS 47 MB against 76 MB. Before it, a self-contained single file (82 MB) started no faster than the
# framework-dependent build, and self-contained ReadyToRun was 99 MB. The output of `read` is the same
# byte for byte as the JIT build's (pcaps/, text and --json); metrics to VictoriaMetrics (v2) and the
# v1 /write, InfluxDB's 400/401 answers, spooling, `run` on an interface and `interfaces` were checked
# under AOT. InfluxDB.Client's dependencies still fail the trim/AOT analysis as a whole: which of its
# warnings are accepted, and why, is in Directory.Build.props; publish() below refuses any other.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

# When run from inside another dotnet process (the package test runs under `dotnet test`), its
# MSBuild variables would steer this publish to that process's SDK and targets.
unset MSBuildExtensionsPath MSBuildSDKsPath MSBUILD_EXE_PATH MSBuildLoadMicrosoftTargetsReadOnly \
      MSBUILDNOINPROCNODE DOTNET_HOST_PATH 2>/dev/null || true
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

rid=linux-x64
artifacts=$(mkdir -p "${ARTIFACTS:-$root/artifacts}" && cd "${ARTIFACTS:-$root/artifacts}" && pwd)
publish_dir=$artifacts/publish/$rid

# Debian version from what `sensor --version` prints (git describe at build, without the v), made
# valid for dpkg: it must start with a digit and may hold no '-' without a revision. 0.5.0 -> 0.5.0;
# 0.5.0-34-gd5b6981 -> 0.5.0+34.gd5b6981 (sorts after 0.5.0, before 0.5.1); "-dirty" -> ".dirty";
# a bare commit hash (no tag reachable) -> 0.0.0+g<hash>. Taken from the built binary, so the package
# and the program inside it never disagree.
debian_version_of() {
    local d=$1
    if [[ $d =~ ^[0-9a-f]{7,40}(-dirty)?$ ]]; then
        echo "0.0.0+g${d//-/.}"
    elif [[ $d =~ ^([0-9][0-9A-Za-z.]*)(-([0-9]+)-(g[0-9a-f]+))?(-dirty)?$ ]]; then
        local v=${BASH_REMATCH[1]} commits=${BASH_REMATCH[3]} hash=${BASH_REMATCH[4]} dirty=${BASH_REMATCH[5]}
        if [ -n "$commits" ]; then v+="+$commits.$hash"; fi
        if [ -n "$dirty" ]; then
            if [ -n "$commits" ]; then v+=".dirty"; else v+="+dirty"; fi
        fi
        echo "$v"
    else
        echo "package: cannot make a Debian version of '$d'" >&2; return 1
    fi
}

debian_version() {
    local d
    if d=$(git describe --tags --always --dirty --match 'v[0-9]*' 2>/dev/null) && [ -n "$d" ]; then
        debian_version_of "${d#v}"
    else
        sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' src/Sensor/Sensor.csproj
    fi
}

# The trim/AOT warnings a publish may give, and no others (see Directory.Build.props): InfluxDB.Client
# and its dependencies, one line per assembly, and Exception.TargetSite in AnalyzerFaultLog.
known_aot_warnings="warning IL(2104|3053): Assembly '(InfluxDB\.Client|RestSharp|Newtonsoft\.Json|System\.Configuration\.ConfigurationManager)' produced"
known_aot_warnings+="|AnalyzerFaultLog.*warning IL2026: .*'System\.Exception\.TargetSite\.get'"
known_aot_warnings+="|warning IL2026: Sensor\.Core\.Health\.AnalyzerFaultLog\.Report\(String,Exception\): Using member 'System\.Exception\.TargetSite\.get'"

publish() {
    "$root/scripts/install-deps.sh" package >&2 # clang and zlib for the native link, when missing
    echo "== dotnet publish src/Sensor ($rid, Native AOT) -> ${publish_dir#$root/}" >&2
    rm -rf "$publish_dir"
    local log; log=$(mktemp)
    local status=0
    dotnet publish src/Sensor -c Release -r "$rid" -p:PublishAot=true \
        -o "$publish_dir" -nologo -v quiet -clp:NoSummary >"$log" 2>&1 || status=$?
    # The accepted warnings are documented above; anything else is shown.
    { grep -v 'warning NU1603' "$log" | grep -Ev "$known_aot_warnings" || true; } >&2
    local unexpected
    unexpected=$(grep -E 'warning IL[0-9]{4}' "$log" | grep -Ev "$known_aot_warnings" || true)
    rm -f "$log"
    [ "$status" -eq 0 ] || { echo "package: dotnet publish failed ($status)" >&2; exit 1; }
    [ -z "$unexpected" ] || { echo "package: trim/AOT warnings beyond the known ones (see Directory.Build.props): the binary may fail at run time" >&2; exit 1; }
    [ -x "$publish_dir/sensor" ] || { echo "package: publish produced no $publish_dir/sensor" >&2; exit 1; }
}

# The unit with its paths moved to where this installation puts the binary, config and README.
# The template unit (mail-sensor@.service, fanout members) moves the same way, and so do its
# EnvironmentFile= lines.
unit_for() { # bindir sysconfdir docdir [unit file name]
    sed -e "s|^ExecStart=/usr/bin/sensor |ExecStart=$1/sensor |" \
        -e "s|--config /etc/mail-sensor/sensor.json|--config $2/mail-sensor/sensor.json|" \
        -e "s|^EnvironmentFile=-/etc/mail-sensor/|EnvironmentFile=-$2/mail-sensor/|" \
        -e "s|^Documentation=file:///usr/share/doc/mail-sensor/|Documentation=file://$3/|" \
        "config/systemd/${4:-mail-sensor.service}"
}

build_deb() {
    publish
    local version; version=$(debian_version_of "$("$publish_dir/sensor" --version)")
    local stage=$artifacts/deb-root out=$artifacts/mail-sensor_${version}_amd64.deb
    rm -rf "$stage"
    # Explicit modes: the result must not depend on the umask of whoever builds it.
    install -d -m 0755 "$stage/DEBIAN" "$stage/usr/bin" "$stage/lib/systemd/system" \
        "$stage/etc/mail-sensor" "$stage/usr/share/doc/mail-sensor"
    # No setcap: the unit grants CAP_NET_RAW/CAP_NET_ADMIN to the service alone; file capabilities
    # would let every local user capture.
    install -m 0755 "$publish_dir/sensor" "$stage/usr/bin/sensor"
    install -m 0644 config/systemd/mail-sensor.service "$stage/lib/systemd/system/mail-sensor.service"
    install -m 0644 config/systemd/mail-sensor@.service "$stage/lib/systemd/system/mail-sensor@.service"
    install -m 0644 config/sensor.json "$stage/etc/mail-sensor/sensor.json"
    install -m 0644 README.md "$stage/usr/share/doc/mail-sensor/README.md"
    # The README links into docs/: the same layout keeps its links working.
    install -d -m 0755 "$stage/usr/share/doc/mail-sensor/docs"
    install -m 0644 docs/*.md "$stage/usr/share/doc/mail-sensor/docs/"
    install -m 0644 LICENSE "$stage/usr/share/doc/mail-sensor/copyright"
    install -m 0644 packaging/debian/conffiles "$stage/DEBIAN/conffiles"
    install -m 0755 packaging/debian/postinst packaging/debian/prerm packaging/debian/postrm "$stage/DEBIAN/"
    local size; size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
    sed -e "s/@VERSION@/$version/" -e "s/@INSTALLED_SIZE@/$size/" packaging/debian/control.in \
        > "$stage/DEBIAN/control"
    chmod 0644 "$stage/DEBIAN/control"
    rm -f "$artifacts"/mail-sensor_*_amd64.deb
    # gzip: 9 MB with the AOT binary (the earlier 82 MB single file gave 35 MB in 13 s; xz took 60 s
    # for 26 MB, measured 2026-12-01).
    dpkg-deb --build --root-owner-group -Zgzip "$stage" "$out" >&2
    echo "$out"
}

install_files() {
    local prefix=${PREFIX:-/usr/local} destdir=${DESTDIR:-}
    local sysconfdir=${SYSCONFDIR:-$prefix/etc}
    local bindir=$prefix/bin docdir=$prefix/share/doc/mail-sensor unitdir=$prefix/lib/systemd/system
    # NO_PUBLISH=1 installs what the last publish made (the package test, right after `deb`).
    if [ -z "${NO_PUBLISH:-}" ]; then
        publish
    elif [ ! -x "$publish_dir/sensor" ]; then
        echo "install: NO_PUBLISH set but nothing published in $publish_dir" >&2; exit 1
    fi
    install -d -m 0755 "$destdir$bindir" "$destdir$unitdir" "$destdir$sysconfdir/mail-sensor" "$destdir$docdir"
    install -m 0755 "$publish_dir/sensor" "$destdir$bindir/sensor"
    unit_for "$bindir" "$sysconfdir" "$docdir" > "$destdir$unitdir/mail-sensor.service"
    grep -q "^ExecStart=$bindir/sensor run --config $sysconfdir/mail-sensor/sensor.json\$" "$destdir$unitdir/mail-sensor.service" ||
        { echo "install: the unit's ExecStart was not rewritten for $prefix (config/systemd changed?)" >&2; exit 1; }
    chmod 0644 "$destdir$unitdir/mail-sensor.service"
    unit_for "$bindir" "$sysconfdir" "$docdir" mail-sensor@.service > "$destdir$unitdir/mail-sensor@.service"
    grep -q "^ExecStart=$bindir/sensor run --config $sysconfdir/mail-sensor/sensor.json\$" "$destdir$unitdir/mail-sensor@.service" ||
        { echo "install: the template unit's ExecStart was not rewritten for $prefix (config/systemd changed?)" >&2; exit 1; }
    chmod 0644 "$destdir$unitdir/mail-sensor@.service"
    if [ -e "$destdir$sysconfdir/mail-sensor/sensor.json" ]; then
        echo "kept $destdir$sysconfdir/mail-sensor/sensor.json (exists)"
    else
        install -m 0644 config/sensor.json "$destdir$sysconfdir/mail-sensor/sensor.json"
    fi
    install -m 0644 README.md "$destdir$docdir/README.md"
    install -d -m 0755 "$destdir$docdir/docs"
    install -m 0644 docs/*.md "$destdir$docdir/docs/"
    echo "installed $destdir$bindir/sensor, $destdir$unitdir/mail-sensor.service (and mail-sensor@.service for fanout members), $destdir$sysconfdir/mail-sensor/sensor.json"
    echo "next (as root): useradd --system --no-create-home --shell /usr/sbin/nologin mail-sensor;"
    echo "  set Capture:Interface in $sysconfdir/mail-sensor/sensor.json; systemctl daemon-reload; systemctl enable --now mail-sensor"
}

case "${1:-deb}" in
    deb) build_deb ;;
    install) install_files ;;
    version) debian_version ;;
    publish) publish; echo "$publish_dir/sensor" ;; # the binary alone (bench/ times what the package ships)
    *) echo "usage: $0 [deb|install|version|publish]" >&2; exit 2 ;;
esac
