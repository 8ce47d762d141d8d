import ArgumentParser
import Foundation
import PlumbAPI

struct AlarmsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "alarms", abstract: "List alarms, show one, its history, or set its state.",
        subcommands: [List.self, Describe.self, History.self, SetState.self, Put.self, Delete.self, Reload.self],
        defaultSubcommand: List.self)

    static func path(_ name: String) -> String {
        "/api/v1/alarms/"
            + (name.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(["/"])) ?? name)
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
            let (_, body) = try await client.request(
                .GET, "/api/v1/alarms" + (query.isEmpty ? "" : "?" + query.joined(separator: "&")))
            if client.output == .json { return client.printJSON(body) }
            let alarms = try WireJSON.decode(AlarmListResponse.self, body).alarms
            guard !alarms.isEmpty else { return print("no alarms") }
            // A silenced alarm says so where its reason goes: its notifications are held.
            let rows = alarms.map { a in
                let note =
                    a.silence.map(SilenceCommand.summary)
                    ?? (a.actionsEnabled == false ? "[actions disabled] " : "") + a.stateReason
                return [a.name, a.type, a.state, a.stateUpdatedAt, String(note.prefix(90))]
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
            guard let a = try? JSONDecoder().decode(AlarmDescription.self, from: Data(body)) else {
                return client.printJSON(body)
            }
            for (key, text) in Self.lines(a) {
                print("\(key.padding(toLength: 34, withPad: " ", startingAt: 0))\(text)")
            }
        }

        /// The alarm's members in reading order, each as text; absent members are left out.
        static func lines(_ a: AlarmDescription) -> [(String, String)] {
            func list(_ items: [String]) -> String { items.isEmpty ? "-" : items.joined(separator: ", ") }
            let dimensions = a.dimensions.map { map in
                map.isEmpty
                    ? "-" : map.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", ")
            }
            let members: [(String, String?)] = [
                ("name", a.name), ("type", a.type), ("source", a.source), ("description", a.description),
                ("state", a.state),
                ("silence", a.silence.map { SilenceCommand.summary($0) + ", silence \($0.id)" }),
                ("stateReason", a.stateReason),
                ("stateUpdatedAt", a.stateUpdatedAt), ("lastEvaluatedAt", a.lastEvaluatedAt), ("severity", a.severity),
                ("namespace", a.namespace), ("metric", a.metric), ("dimensions", dimensions),
                ("statistic", a.statistic),
                ("period", a.period.map(String.init)), ("evaluationPeriods", a.evaluationPeriods.map(String.init)),
                ("datapointsToAlarm", a.datapointsToAlarm.map(String.init)), ("comparison", a.comparison),
                ("threshold", a.threshold.map(number)), ("treatMissingData", a.treatMissingData),
                ("evaluateLowSampleCountPercentile", a.evaluateLowSampleCountPercentile),
                // Metric-math queries, one a line: "e: Plumb/Functions/Errors Sum", "rate: 100 * e / i (returned)".
                ("metrics", a.metrics.map { $0.joined(separator: "\n" + String(repeating: " ", count: 34)) }),
                ("rule", a.rule),
                ("actionsSuppressor", a.actionsSuppressor), ("waitPeriod", a.waitPeriod.map(String.init)),
                ("extensionPeriod", a.extensionPeriod.map(String.init)), ("alarmActions", list(a.alarmActions)),
                ("okActions", list(a.okActions)),
                ("insufficientDataActions", list(a.insufficientDataActions)),
                ("actionsEnabled", a.actionsEnabled == false ? "false (transitions notify no topic)" : nil),
            ]
            return members.compactMap { key, text in text.map { (key, $0) } }
        }

        /// A number as JSON wrote it: whole numbers without a fraction (`250`, not `250.0`).
        static func number(_ value: Double) -> String {
            value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : "\(value)"
        }
    }

    struct History: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "State changes, configuration updates and actions, newest first (14 days).")
        @OptionGroup var client: ClientOptions
        @Argument(help: "Alarm name.") var name: String
        @Option(help: "StateUpdate, ConfigurationUpdate or Action.") var type: String?
        @Option(help: "How many items (1–1000).") var limit = 50

        func run() async throws {
            var path = AlarmsCommand.path(name) + "/history?limit=\(limit)"
            if let type { path += "&type=\(type)" }
            let (_, body) = try await client.request(.GET, path)
            if client.output == .json { return client.printJSON(body) }
            let items = try WireJSON.decode(AlarmHistoryResponse.self, body).history
            guard !items.isEmpty else { return print("no history for \(name)") }
            print(table(["TIME", "TYPE", "SUMMARY"], items.map { [$0.timestamp, $0.type, $0.summary] }))
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
            guard ["OK", "ALARM", "INSUFFICIENT_DATA"].contains(state) else {
                throw ValidationError("STATE must be OK, ALARM or INSUFFICIENT_DATA")
            }
        }

        func run() async throws {
            let payload = try WireJSON.encode(SetAlarmStateRequest(state: state, reason: reason))
            let (_, body) = try await client.request(.POST, AlarmsCommand.path(name) + "/state", body: payload)
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
            let answer = try WireJSON.decode(ReloadAlarmsResponse.self, body)
            print("reloaded: \(answer.alarms) alarms, \(answer.topics) topics")
        }
    }
}
