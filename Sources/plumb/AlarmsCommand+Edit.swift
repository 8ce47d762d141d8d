import ArgumentParser
import Foundation
import PlumbAPI

extension AlarmsCommand {
    /// `plumb alarms put NAME --file F` or with flags: the same document as an alarm in an alert file.
    struct Put: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Create or replace an alarm made through the API, from a file (YAML or JSON, as one alarm of an alert file) or flags.",
            discussion: """
                plumb alarms put api-latency --namespace Plumb/Functions --metric Duration --dimension Function=sentiment.classify \\
                  --statistic p99 --period 60 --evaluation-periods 3 --comparison GreaterThanThreshold --threshold 250 --alarm-action ops
                plumb alarms put error-rate --file error-rate.yaml      (metric math, composite rules: write them in a file)
                Alarms declared in alert files are changed in their files, not here.
                """)
        @OptionGroup var client: ClientOptions
        @Argument(help: "Alarm name.") var name: String
        @Option(help: "A file holding the alarm (YAML or JSON); flags given as well override its keys.") var file:
            String?
        @Option(help: "Namespace of the metric.") var namespace: String?
        @Option(help: "Metric name.") var metric: String?
        @Option(name: .customLong("dimension"), help: "A dimension K=V (repeatable).") var dimensions: [String] = []
        @Option(help: "SampleCount, Sum, Average, Minimum, Maximum or pNN.") var statistic: String?
        @Option(help: "Seconds: 10, 30 or a multiple of 60.") var period: Int?
        @Option(help: "Periods evaluated.") var evaluationPeriods: Int?
        @Option(help: "Breaching periods among them that alarm (default: all).") var datapointsToAlarm: Int?
        @Option(
            help:
                "GreaterThanThreshold, GreaterThanOrEqualToThreshold, LessThanThreshold or LessThanOrEqualToThreshold.")
        var comparison: String?
        @Option(help: "Threshold.") var threshold: Double?
        @Option(help: "missing, notBreaching, breaching or ignore.") var treatMissingData: String?
        @Option(help: "Description shown in notifications.") var description: String?
        @Option(name: .customLong("alarm-action"), help: "Topic notified on ALARM (repeatable).") var alarmActions:
            [String] = []
        @Option(name: .customLong("ok-action"), help: "Topic notified on OK (repeatable).") var okActions: [String] = []
        @Option(
            help:
                "false: the alarm evaluates and changes state but notifies no topic (CloudWatch's ActionsEnabled; default true)."
        )
        var actionsEnabled: Bool?

        func run() async throws {
            // The file's own keys (free-form: the server's alert-file parser judges them), then the flags over them.
            var document: [String: JSONValue] = [:]
            if let file {
                guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                    throw CLIError("cannot read \(file)")
                }
                guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
                    throw CLIError("\(file) is empty")
                }
                // The server reads YAML and JSON alike; flags are merged only into a JSON object.
                if dimensions.isEmpty, namespace == nil, metric == nil, statistic == nil, period == nil,
                    evaluationPeriods == nil,
                    datapointsToAlarm == nil, comparison == nil, threshold == nil, treatMissingData == nil,
                    description == nil,
                    alarmActions.isEmpty, okActions.isEmpty, actionsEnabled == nil
                {
                    return try await send(Array(text.utf8))
                }
                guard let object = (try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)))?.object else {
                    throw CLIError(
                        "\(file): flags can be added to a JSON file only; put every key in the YAML file instead")
                }
                document = object
            }
            let flags = try JSONDecoder().decode(JSONValue.self, from: Data(try WireJSON.encode(try flagDocument())))
            document.merge(flags.object ?? [:]) { $1 }
            guard !document.isEmpty else {
                throw ValidationError("give --file, or the alarm's keys as flags (see --help)")
            }
            try await send(try WireJSON.encode(JSONValue.object(document)))
        }

        /// The keys given as flags.
        func flagDocument() throws -> AlarmDocument {
            var dims: [String: String] = [:]
            for d in dimensions {
                let parts = d.split(separator: "=", maxSplits: 1)
                guard parts.count == 2, !parts[0].isEmpty else {
                    throw ValidationError("--dimension takes K=V, not '\(d)'")
                }
                dims[String(parts[0])] = String(parts[1])
            }
            var document = AlarmDocument()
            document.dimensions = dims.isEmpty ? nil : dims
            (document.namespace, document.metric, document.statistic, document.period) = (
                namespace, metric, statistic, period
            )
            (document.evaluationPeriods, document.datapointsToAlarm) = (evaluationPeriods, datapointsToAlarm)
            (document.comparison, document.threshold, document.treatMissingData) = (
                comparison, threshold, treatMissingData
            )
            document.description = description
            document.alarmActions = alarmActions.isEmpty ? nil : alarmActions
            document.okActions = okActions.isEmpty ? nil : okActions
            document.actionsEnabled = actionsEnabled
            return document
        }

        func send(_ body: [UInt8]) async throws {
            let (status, answer) = try await client.request(.PUT, AlarmsCommand.path(name), body: body)
            if client.output == .json { return client.printJSON(answer) }
            let state = (try? JSONDecoder().decode(AlarmDescription.self, from: Data(answer)))?.state ?? "?"
            print("\(status == 201 ? "created" : "replaced") alarm \(name) (\(state))")
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete an alarm made through the API (alert-file alarms are removed from their files).")
        @OptionGroup var client: ClientOptions
        @Argument(help: "Alarm name.") var name: String

        func run() async throws {
            _ = try await client.request(.DELETE, AlarmsCommand.path(name))
            print("deleted alarm \(name)")
        }
    }
}
