#!/usr/bin/env bash
# Regenerates Sources/PlumbOpen/Generated from the protocol definitions. Not part of the build: the generated code
# is committed (building swift-protobuf's generator is slow), so run this only to change a definition or a version.
#
#   OTLP:            opentelemetry-proto v1.9.0 (fetched: common, resource, metrics, logs and their collector services)
#   remote write:    proto/prometheus/remote.proto (written from the Remote-Write 1.0 specification)
#   generator:       protoc (Debian protobuf-compiler) and protoc-gen-swift of swift-protobuf 1.39.0
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
git clone -q --depth 1 --branch v1.9.0 https://github.com/open-telemetry/opentelemetry-proto "$work/otlp"
mkdir -p "$work/gen"
cat > "$work/gen/Package.swift" <<'SWIFT'
// swift-tools-version:6.0
import PackageDescription
let package = Package(
    name: "gen", dependencies: [.package(url: "https://github.com/apple/swift-protobuf.git", exact: "1.39.0")],
    targets: [.target(name: "Gen", dependencies: [.product(name: "SwiftProtobuf", package: "swift-protobuf")])])
SWIFT
mkdir -p "$work/gen/Sources/Gen" && touch "$work/gen/Sources/Gen/gen.swift"
(cd "$work/gen" && swift build -c release --product protoc-gen-swift)
plugin="$work/gen/.build/release/protoc-gen-swift"
mkdir -p "$work/src/opentelemetry/proto" "$work/src/prometheus"
for f in collector/logs/v1/logs_service collector/metrics/v1/metrics_service common/v1/common logs/v1/logs \
    metrics/v1/metrics resource/v1/resource; do
    mkdir -p "$work/src/opentelemetry/proto/$(dirname "$f")"
    cp "$work/otlp/opentelemetry/proto/$f.proto" "$work/src/opentelemetry/proto/$f.proto"
done
cp proto/prometheus/remote.proto "$work/src/prometheus/"
rm -f Sources/PlumbOpen/Generated/*.pb.swift
(cd "$work/src" && protoc --plugin=protoc-gen-swift="$plugin" --swift_out="$OLDPWD/Sources/PlumbOpen/Generated" \
    --swift_opt=Visibility=Public --swift_opt=FileNaming=PathToUnderscores $(find . -name '*.proto' | sort))
ls Sources/PlumbOpen/Generated
