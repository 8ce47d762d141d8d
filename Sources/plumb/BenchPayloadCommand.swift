import ArgumentParser
import Foundation
import PlumbOpen

/// `plumb bench-payload`: turns a line-protocol payload directory (bench/payload.py) into the same samples as
/// Prometheus remote write bodies or OTLP metrics exports, one per file, so every protocol is benchmarked on identical
/// data.
struct BenchPayloadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-payload",
        abstract: "Convert a line-protocol benchmark payload into remote write or OTLP bodies.",
        discussion: """
            Each file of INPUT (lines `measurement,tag=v,… field=v,… seconds`, as bench/payload.py writes them) \
            becomes a file of OUTPUT with the same samples, series `measurement_field{tags}`: with --format \
            remote-write (the default) one snappy-compressed WriteRequest (timestamps in milliseconds); with \
            --format otlp one protobuf ExportMetricsServiceRequest (service.name `bench`, one gauge per name, the \
            tags as attributes). Prints the number of samples.
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case remoteWrite = "remote-write"
        case otlp
    }

    @Argument(help: "The line-protocol payload directory.") var input: String
    @Argument(help: "Where to write the bodies.") var output: String
    @Option(help: "remote-write or otlp.") var format: Format = .remoteWrite

    func run() throws {
        try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
        var samples = 0
        for name in try FileManager.default.contentsOfDirectory(atPath: input).sorted() {
            let text = try String(contentsOfFile: input + "/" + name, encoding: .utf8)
            var series: [RemoteWriteBody.Series] = []
            for (number, line) in text.split(separator: "\n").enumerated() {
                let parts = line.split(separator: " ")
                guard parts.count == 3, let seconds = Int64(parts[2]) else {
                    throw ValidationError("\(name) line \(number + 1): not `head fields seconds`")
                }
                let head = parts[0].split(separator: ",")
                let tags = head.dropFirst().map { tag -> (name: String, value: String) in
                    let kv = tag.split(separator: "=", maxSplits: 1)
                    return (String(kv[0]), kv.count > 1 ? String(kv[1]) : "")
                }
                for field in parts[1].split(separator: ",") {
                    let kv = field.split(separator: "=", maxSplits: 1)
                    guard kv.count == 2, let value = Double(kv[1].hasSuffix("i") ? kv[1].dropLast() : kv[1]) else {
                        throw ValidationError("\(name) line \(number + 1): field '\(field)' is not a number")
                    }
                    series.append(
                        RemoteWriteBody.Series(
                            labels: [("__name__", "\(head[0])_\(kv[0])")] + tags,
                            samples: [(value, seconds * 1_000)]))
                    samples += 1
                }
            }
            switch format {
            case .remoteWrite:
                try Data(try RemoteWriteBody.make(series)).write(to: URL(fileURLWithPath: output + "/" + name + ".rw"))
            case .otlp:
                try Data(try OTLPMetricsBody.make(series, service: "bench")).write(
                    to: URL(fileURLWithPath: output + "/" + name + ".otlp"))
            }
        }
        print(samples)
    }
}
