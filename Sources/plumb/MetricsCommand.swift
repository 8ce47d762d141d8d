import ArgumentParser
import Foundation
import PlumbAPI

struct MetricsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "metrics", abstract: "List, query and put metrics on a running server.",
        subcommands: [List.self, Get.self, Put.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the metrics that exist, with their dimensions.")
        @OptionGroup var client: ClientOptions
        @Option(help: "Only this namespace.") var namespace: String?
        @Option(help: "Only this metric name.") var name: String?

        func run() async throws {
            var query: [String] = []
            if let namespace { query.append("namespace=\(escape(namespace))") }
            if let name { query.append("name=\(escape(name))") }
            let (_, body) = try await client.request(
                .GET, "/api/v1/metrics" + (query.isEmpty ? "" : "?" + query.joined(separator: "&")))
            if client.output == .json { return client.printJSON(body) }
            let rows = try WireJSON.decode(ListMetricsResponse.self, body).metrics.map { m -> [String] in
                let dims = m.dimensions.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(
                    separator: ",")
                return [m.namespace, m.name, dims, m.unit ?? ""]
            }
            print(table(["NAMESPACE", "NAME", "DIMENSIONS", "UNIT"], rows))
        }
    }

    struct Get: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Statistics of one metric per period.")
        @OptionGroup var client: ClientOptions
        @Argument(help: "Namespace, e.g. Plumb/Functions.") var namespace: String
        @Argument(help: "Metric name, e.g. Duration.") var name: String
        @Option(help: "Dimensions as K=V,K2=V2.") var dimensions: String?
        @Option(help: "Statistics: SampleCount, Sum, Average, Minimum, Maximum, pNN.") var statistics =
            "SampleCount,Average,Maximum"
        @Option(help: "Period in seconds: 1, 10, 30 or a multiple of 60.") var period = 60
        @Option(parsing: .unconditional, help: "Start: \(LogsCommand.timeHelp).") var start = "1h"
        @Option(parsing: .unconditional, help: "End: \(LogsCommand.timeHelp).") var end = "now"

        func run() async throws {
            var query = [
                "namespace=\(escape(namespace))", "name=\(escape(name))", "statistics=\(escape(statistics))",
                "period=\(period)", "start=\(escape(start))", "end=\(escape(end))",
            ]
            if let dimensions { query.append("dimensions=\(escape(dimensions))") }
            let (_, body) = try await client.request(.GET, "/api/v1/metrics/statistics?" + query.joined(separator: "&"))
            if client.output == .json { return client.printJSON(body) }
            let answer = try WireJSON.decode(StatisticsResponse.self, body)
            let columns =
                ["SampleCount"] + statistics.split(separator: ",").map(String.init).filter { $0 != "SampleCount" }
            let rows = answer.datapoints.map { p in
                [p.timestamp] + columns.map { c in p.values[c].map { format($0) } ?? "-" }
            }
            print(table(["TIMESTAMP"] + columns, rows))
            if answer.datapoints.isEmpty { print("(no datapoints in the range; unit \(answer.unit))") }
        }
    }

    struct Put: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Put one datum.")
        @OptionGroup var client: ClientOptions
        @Argument(help: "Namespace.") var namespace: String
        @Argument(help: "Metric name.") var name: String
        @Argument(help: "Value.") var value: Double
        @Option(help: "Dimensions as K=V,K2=V2.") var dimensions: String?
        @Option(help: "CloudWatch unit, e.g. Milliseconds, Count.") var unit: String?
        @Option(help: "Timestamp (RFC 3339 or epoch seconds); default now.") var timestamp: String?
        @Option(help: "Storage resolution: 1 or 60.") var resolution = 60

        func run() async throws {
            var datum = PutMetricDataRequest.Datum(name: name, unit: unit, value: value, storageResolution: resolution)
            if let dimensions {
                var dims: [String: String] = [:]
                for pair in dimensions.split(separator: ",") {
                    let parts = pair.split(separator: "=", maxSplits: 1)
                    guard parts.count == 2 else { throw ValidationError("--dimensions must be K=V,K2=V2") }
                    dims[String(parts[0])] = String(parts[1])
                }
                datum.dimensions = dims
            }
            // A number is epoch seconds; any other text goes as it is (RFC 3339), for the server to judge.
            datum.timestamp = timestamp.map {
                Double($0).map(PutMetricDataRequest.Timestamp.epochSeconds) ?? .rfc3339($0)
            }
            let body = try WireJSON.encode(PutMetricDataRequest(namespace: namespace, data: [datum]))
            _ = try await client.request(.POST, "/api/v1/metrics", body: body)
            if client.output == .json { print("{}") } else { print("stored \(namespace) \(name) = \(format(value))") }
        }
    }
}

func escape(_ s: String) -> String {
    s.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? s
}

func format(_ v: Double) -> String {
    v == v.rounded() && abs(v) < 1e15 ? String(Int64(v)) : String(format: "%.4g", v)
}
