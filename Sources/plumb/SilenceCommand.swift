import ArgumentParser
import Foundation
import PlumbAPI

/// `plumb silence`: hold the notifications of some alarms for a while, as Alertmanager's silences do.
struct SilenceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "silence", abstract: "Hold alarms' notifications for a while: add, list and expire silences.",
        discussion: """
            While a silence is active, state changes of the alarms it matches notify no topic: each held notification \
            is recorded in the alarm's history ("Notification held by silence ID") instead. Expired silences stay \
            listed for five days.
            """,
        subcommands: [Add.self, List.self, Expire.self], defaultSubcommand: List.self)

    /// "silenced until … by … (comment)", from an alarm's `silence` object.
    static func summary(_ silence: SilenceSummary) -> String {
        "silenced until \(silence.until) by \(silence.createdBy) (\(silence.comment))"
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Silence one alarm, or every alarm a glob matches.")
        @OptionGroup var client: ClientOptions
        @Option(help: "The alarm's exact name.") var alarm: String?
        @Option(help: "A glob over alarm names, '*' matching anything: 'sensors-*'.") var match: String?
        @Option(name: .customLong("for"), help: "How long: 30m, 2h, 1d (at most 366 days).") var duration: String
        @Option(help: "Why (required; shown with the alarm).") var comment: String

        func validate() throws {
            guard (alarm == nil) != (match == nil) else {
                throw ValidationError("give exactly one of --alarm and --match")
            }
        }

        func run() async throws {
            let payload = CreateSilenceRequest(alarm: alarm, match: match, duration: duration, comment: comment)
            let (_, body) = try await client.request(.POST, "/api/v1/silences", body: try WireJSON.encode(payload))
            if client.output == .json { return client.printJSON(body) }
            let s = try WireJSON.decode(SilenceDescription.self, body)
            let what = s.alarm.map { "alarm \($0)" } ?? "alarms matching \(s.match ?? "")"
            print("silence \(s.id): \(what) silenced until \(s.endsAt)")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Active silences, then those expired in the last five days.")
        @OptionGroup var client: ClientOptions
        @Option(help: "Only silences in this state: active, pending or expired.") var state: String?
        @Option(help: "Only silences that match this alarm.") var alarm: String?

        func run() async throws {
            var query: [String] = []
            if let state { query.append("state=\(state)") }
            if let alarm {
                query.append("alarm=\(alarm.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? alarm)")
            }
            let (_, body) = try await client.request(
                .GET, "/api/v1/silences" + (query.isEmpty ? "" : "?" + query.joined(separator: "&")))
            if client.output == .json { return client.printJSON(body) }
            let list = try WireJSON.decode(SilenceListResponse.self, body).silences
            guard !list.isEmpty else { return print("no silences") }
            print(
                table(
                    ["ID", "STATE", "MATCHES", "ENDS", "CREATED BY", "COMMENT"],
                    list.map { s in
                        [s.id, s.state, s.alarm ?? "\(s.match ?? "") (glob)", s.endsAt, s.createdBy, s.comment]
                    }))
        }
    }

    struct Expire: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "End a silence now (it stays listed as expired).")
        @OptionGroup var client: ClientOptions
        @Argument(help: "The silence's id, or a unique prefix of it (at least 4 characters).") var id: String

        func run() async throws {
            var full = id
            if id.count < 36 {
                // A prefix, as `plumb silence list` shows ids in full but people type the start.
                guard id.count >= 4 else { throw ValidationError("give at least 4 characters of the id") }
                let (_, listed) = try await client.request(.GET, "/api/v1/silences")
                let ids = try WireJSON.decode(SilenceListResponse.self, listed).silences.map(\.id)
                let matching = ids.filter { $0.hasPrefix(id.lowercased()) }
                guard matching.count == 1 else {
                    throw CLIError(
                        matching.isEmpty
                            ? "no silence id starts with \(id)"
                            : "\(id) is the start of \(matching.count) silence ids; give more of it")
                }
                full = matching[0]
            }
            let path =
                "/api/v1/silences/"
                + (full.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(["-"])) ?? full)
            let (_, body) = try await client.request(.DELETE, path)
            if client.output == .json { return client.printJSON(body) }
            print("silence \(full) expired")
        }
    }
}
