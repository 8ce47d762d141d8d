import ArgumentParser
import Foundation

struct AlarmsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "alarms", abstract: "List alarms, show one, its history, or set its state.",
        subcommands: [List.self, Describe.self, History.self, SetState.self, Put.self, Delete.self, Reload.self], defaultSubcommand: List.self)

    static func path(_ name: String) -> String {
        "/api/v1/alarms/" + (name.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(["/"])) ?? name)
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every alarm with its state.")
        @OptionGroup var client: ClientOptions
        @Option(help: "Only alarms in this state: OK, ALARM or INSUFFICIENT_DATA.") var state: String?
        @Option(help: "Only alarms whose name starts with this.") var prefix: String?

        func run() async throws {
            var query: [String] = []
            if let state { query.append("state=\(state)") }
            if let prefix { query.append("prefix=\(LogsCommand.encode(prefix))") }
            let (_, body) = try await client.request(.GET, "/api/v1/alarms" + (query.isEmpty ? "" : "?" + query.joined(separator: "&")))
            if client.output == .json { return client.printJSON(body) }
            let alarms = (try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])?["alarms"] as? [[String: Any]] ?? []
            guard !alarms.isEmpty else { return print("no alarms") }
            // A silenced alarm says so where its reason goes: its notifications are held.
            let rows = alarms.map { a in
                let note = (a["silence"] as? [String: Any]).map(SilenceCommand.summary) ?? (a["stateReason"] as? String ?? "")
                return [a["name"] as? String ?? "", a["type"] as? String ?? "", a["state"] as? String ?? "", a["stateUpdatedAt"] as? String ?? "",
                        String(note.prefix(90))]
            }
            print(table(["NAME", "TYPE", "STATE", "SINCE", "REASON / SILENCE"], rows))
        }
    }

    struct Describe: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One alarm's definition and state.")
        @OptionGroup var client: ClientOptions
        @Argument(help: "Alarm name.") var name: String

        func run() async throws {
            let (_, body) = try await client.request(.GET, AlarmsCommand.path(name))
            if client.output == .json { return client.printJSON(body) }
            guard let a = try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else { return client.printJSON(body) }
            let order = [
                "name", "type", "source", "description", "state", "silence", "stateReason", "stateUpdatedAt", "lastEvaluatedAt", "severity", "namespace",
                "metric", "dimensions", "statistic", "period", "evaluationPeriods", "datapointsToAlarm", "comparison", "threshold",
                "treatMissingData", "evaluateLowSampleCountPercentile", "metrics", "rule", "actionsSuppressor", "waitPeriod", "extensionPeriod",
                "alarmActions", "okActions", "insufficientDataActions",
            ]
            for key in order {
                guard let value = a[key] else { continue }
                let text: String
                switch value {
                // Metric-math queries, one a line: "e: Plumb/Functions/Errors Sum", "rate: 100 * e / i (returned)".
                case let list as [Any] where key == "metrics":
                    text = list.map { "\($0)" }.joined(separator: "\n" + String(repeating: " ", count: 34))
                case let silence as [String: Any] where key == "silence": text = SilenceCommand.summary(silence) + ", silence \(silence["id"] ?? "")"
                case let list as [Any]: text = list.isEmpty ? "-" : list.map { "\($0)" }.joined(separator: ", ")
                case let map as [String: Any]: text = map.isEmpty ? "-" : map.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", ")
                default: text = "\(value)"
                }
                print("\(key.padding(toLength: 34, withPad: " ", startingAt: 0))\(text)")
            }
        }
    }

    struct History: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "State changes, configuration updates and actions, newest first (14 days).")
        @OptionGroup var client: ClientOptions
        @Argument(help: "Alarm name.") var name: String
        @Option(help: "StateUpdate, ConfigurationUpdate or Action.") var type: String?
        @Option(help: "How many items (1–1000).") var limit = 50

        func run() async throws {
            var path = AlarmsCommand.path(name) + "/history?limit=\(limit)"
            if let type { path += "&type=\(type)" }
            let (_, body) = try await client.request(.GET, path)
            if client.output == .json { return client.printJSON(body) }
            let items = (try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])?["history"] as? [[String: Any]] ?? []
            guard !items.isEmpty else { return print("no history for \(name)") }
            print(table(["TIME", "TYPE", "SUMMARY"], items.map { [$0["timestamp"] as? String ?? "", $0["type"] as? String ?? "", $0["summary"] as? String ?? ""] }))
        }
    }

    struct SetState: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set-state", abstract: "Set an alarm's state until its next evaluation (to test actions).")
        @OptionGroup var client: ClientOptions
        @Argument(help: "Alarm name.") var name: String
        @Argument(help: "OK, ALARM or INSUFFICIENT_DATA.") var state: String
        @Option(help: "Why (kept in the history).") var reason = "Set by plumb alarms set-state"

        func validate() throws {
            guard ["OK", "ALARM", "INSUFFICIENT_DATA"].contains(state) else { throw ValidationError("STATE must be OK, ALARM or INSUFFICIENT_DATA") }
        }

        func run() async throws {
            let payload = try JSONSerialization.data(withJSONObject: ["state": state, "reason": reason])
            let (_, body) = try await client.request(.POST, AlarmsCommand.path(name) + "/state", body: Array(payload))
            if client.output == .json { return client.printJSON(body) }
            print("\(name): \(state) (held until the next evaluation)")
        }
    }

    struct Reload: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Reload the server's alert files (as SIGHUP does).")
        @OptionGroup var client: ClientOptions

        func run() async throws {
            let (_, body) = try await client.request(.POST, "/api/v1/alarms/reload")
            if client.output == .json { return client.printJSON(body) }
            let object = try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any]
            print("reloaded: \(object?["alarms"] ?? 0) alarms, \(object?["topics"] ?? 0) topics")
        }
    }
}
