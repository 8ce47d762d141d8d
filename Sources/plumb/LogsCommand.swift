import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import PlumbAPI

struct LogsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logs", abstract: "Log groups: list them, search one with a filter pattern, or follow it live.",
        discussion: """
            Filter patterns are CloudWatch Logs': terms (ERROR Exception), ?a ?b (any), -term (none), "a phrase", \
            JSON ({ $.level = "ERROR" && $.latency > 100 }) and space-delimited ([ip, user, ..., status=5*, bytes]).
            """,
        subcommands: [Groups.self, Filter.self, Search.self, Tail.self, Put.self, Retention.self, Delete.self],
        defaultSubcommand: Groups.self)

    static func groupPath(_ group: String) -> String {
        "/api/v1/logs/" + (group.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? group)
    }

    static func encode(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }

    /// `time stream message`, one line per event.
    static func line(_ event: LogEventDescription) -> String {
        "\(event.time)  \(event.stream)  \(event.message)"
    }

    struct Groups: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every log group with its event count and retention.")
        @OptionGroup var client: ClientOptions

        func run() async throws {
            let (_, body) = try await client.request(.GET, "/api/v1/logs")
            if client.output == .json { return client.printJSON(body) }
            let groups = try WireJSON.decode(LogGroupsResponse.self, body).groups
            guard !groups.isEmpty else { return print("no log groups") }
            print(
                table(
                    ["GROUP", "EVENTS", "RETENTION"],
                    groups.map {
                        [$0.name, "\($0.storedEvents)", $0.retentionDays.map { "\($0) days" } ?? "never expire"]
                    }))
        }
    }

    /// What every time option accepts (the server parses it: one parser for every command and endpoint).
    static let timeHelp = "now, now-24h, 24h or -24h (that long ago), RFC 3339, or epoch seconds or milliseconds"

    struct Filter: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Search one group: events matching a pattern in a time range.",
            discussion:
                "The pattern's terms follow the group, no quotes or -- needed: plumb logs filter /plumb/server ERROR -INFO"
        )
        @OptionGroup var client: ClientOptions
        @Argument(help: "Log group, e.g. /plumb/server.") var group: String
        @Argument(parsing: .allUnrecognized, help: "Filter pattern terms (none: every event); -TERM excludes.")
        var pattern: [String] = []
        @Option(parsing: .unconditional, help: "Start: \(LogsCommand.timeHelp).") var since = "1h"
        @Option(parsing: .unconditional, help: "End (default now).") var until: String?
        @Option(help: "Only streams starting with this.") var stream: String?
        @Option(help: "Most events to print.") var limit = 100
        @Flag(help: "Newest first.") var newest = false

        func run() async throws {
            let events = try await LogsCommand.search(
                client: client, group: group, pattern: pattern.joined(separator: " "), since: since, until: until,
                stream: stream,
                limit: limit, newest: newest)
            if client.output == .json { return client.printJSON(try WireJSON.encode(["events": events])) }
            for event in events { print(LogsCommand.line(event)) }
            if events.isEmpty { FileHandle.standardError.write(Data("no matching events\n".utf8)) }
        }
    }

    struct Search: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Search every log group (or those given with --group) for events matching a pattern.",
            discussion: "plumb logs search ERROR -INFO --since 24h   (terms need no quotes or --; -TERM excludes)")
        @OptionGroup var client: ClientOptions
        @Argument(parsing: .allUnrecognized, help: "Filter pattern terms; -TERM excludes.") var pattern: [String] = []
        @Option(name: .customLong("group"), help: "A group to search (repeatable; default: every group).") var groups:
            [String] = []
        @Option(parsing: .unconditional, help: "Start: \(LogsCommand.timeHelp).") var since = "1h"
        @Option(parsing: .unconditional, help: "End (default now).") var until: String?
        @Option(help: "Most events to print.") var limit = 100

        func run() async throws {
            var names = groups
            if names.isEmpty {
                let (_, body) = try await client.request(.GET, "/api/v1/logs")
                names = try WireJSON.decode(LogGroupsResponse.self, body).groups.map(\.name)
            }
            var found: [(group: String, event: LogEventDescription)] = []
            for group in names {
                let events = try await LogsCommand.search(
                    client: client, group: group, pattern: pattern.joined(separator: " "), since: since, until: until,
                    stream: nil,
                    limit: limit, newest: true)
                found += events.map { (group, $0) }
            }
            found.sort { $0.event.timestamp > $1.event.timestamp }
            let shown = found.prefix(limit).reversed()
            if client.output == .json {
                return client.printJSON(
                    try WireJSON.encode(["events": shown.map { FoundEvent(group: $0.group, event: $0.event) }]))
            }
            for item in shown { print(item.group + "  " + LogsCommand.line(item.event)) }
            if shown.isEmpty {
                FileHandle.standardError.write(Data("no matching events in \(names.count) groups\n".utf8))
            }
        }
    }

    /// An event found by `plumb logs search`, with its group beside its own members (`--output json`).
    struct FoundEvent: Encodable {
        let group: String
        let id: Int64
        let stream: String
        let timestamp: Int64
        let time: String
        let ingestionTime: Int64
        let message: String

        init(group: String, event e: LogEventDescription) {
            (self.group, id, stream, timestamp, time, ingestionTime, message) = (
                group, e.id, e.stream, e.timestamp, e.time, e.ingestionTime, e.message
            )
        }
    }

    /// Events of one group matching `pattern`, following the server's pages up to `limit`.
    static func search(
        client: ClientOptions, group: String, pattern: String, since: String, until: String?, stream: String?,
        limit: Int, newest: Bool
    ) async throws -> [LogEventDescription] {
        var path = groupPath(group) + "?limit=\(min(limit, 10_000))&start=\(encode(since))"
        if !pattern.isEmpty { path += "&filter=\(encode(pattern))" }
        if let until { path += "&end=\(encode(until))" }
        if let stream { path += "&stream=\(encode(stream))" }
        if newest { path += "&order=newest" }
        var out: [LogEventDescription] = []
        var next: String?
        repeat {
            let (_, body) = try await client.request(.GET, path + (next.map { "&next=\(encode($0))" } ?? ""))
            let page = try WireJSON.decode(LogEventsResponse.self, body)
            for event in page.events where out.count < limit { out.append(event) }
            next = page.next
        } while next != nil && out.count < limit
        return out
    }

    struct Tail: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Follow a group: print new events as they arrive (Ctrl-C stops).")
        @OptionGroup var client: ClientOptions
        @Argument(help: "Log group, e.g. /plumb/server.") var group: String
        @Option(help: "Only events matching this filter pattern.") var filter: String?
        @Option(help: "Only streams starting with this.") var stream: String?
        @Option(help: "Stop after this many seconds (default: follow until interrupted).") var seconds: Int?

        func run() async throws {
            var path = LogsCommand.groupPath(group) + "/tail?"
            if let filter { path += "filter=\(LogsCommand.encode(filter))&" }
            if let stream { path += "stream=\(LogsCommand.encode(stream))&" }
            if let seconds { path += "seconds=\(seconds)" }
            var request = HTTPClientRequest(
                url: client.server.trimmingCharacters(in: CharacterSet(charactersIn: "/")) + path)
            request.headers.add(name: "Authorization", value: "Bearer \(try client.resolvedToken())")
            let response: HTTPClientResponse
            do {
                response = try await HTTPClient.shared.execute(request, timeout: .hours(24 * 365))
            } catch {
                throw CLIError("cannot reach \(client.server): \(error)")
            }
            guard response.status.code == 200 else {
                let text = String(buffer: try await response.body.collect(upTo: 1 << 20))
                throw CLIError("\(response.status.code): \(text)")
            }
            var pending = ""
            for try await chunk in response.body {
                pending += String(buffer: chunk)
                while let newline = pending.firstIndex(of: "\n") {
                    let line = String(pending[..<newline])
                    pending = String(pending[pending.index(after: newline)...])
                    // The server's heartbeat on a quiet tail.
                    if line.isEmpty { continue }
                    if client.output == .json {
                        print(line)
                    } else if let event = try? JSONDecoder().decode(LogEventDescription.self, from: Data(line.utf8)) {
                        print(LogsCommand.line(event))
                    }
                    fflush(nil)
                }
            }
        }
    }
}

struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit", abstract: "Who changed what: the audit trail of state-changing API calls (/plumb/audit).")
    @OptionGroup var client: ClientOptions
    @Option(parsing: .unconditional, help: "Start: \(LogsCommand.timeHelp).") var since = "24h"
    @Option(help: "Most entries to print (newest first).") var limit = 100

    func run() async throws {
        let path =
            LogsCommand.groupPath("/plumb/audit") + "?order=newest&limit=\(limit)&start=\(LogsCommand.encode(since))"
        let (status, body): (Int, [UInt8])
        do {
            (status, body) = try await client.request(.GET, path)
        } catch let error as CLIError where error.description.hasPrefix("404") {
            return print("no audit entries yet")
        }
        _ = status
        if client.output == .json { return client.printJSON(body) }
        let events = try WireJSON.decode(LogEventsResponse.self, body).events
        // Each event's message is an audit entry, a JSON object.
        let rows = events.compactMap { e -> [String]? in
            guard let entry = try? JSONDecoder().decode(AuditEntry.self, from: Data(e.message.utf8)) else { return nil }
            return [
                entry.time ?? "", entry.actor ?? "", entry.source ?? "", entry.status.map(String.init) ?? "",
                entry.action ?? "",
                entry.resource ?? "",
            ]
        }
        guard !rows.isEmpty else { return print("no audit entries in range") }
        print(table(["TIME", "ACTOR", "SOURCE", "STATUS", "ACTION", "RESOURCE"], rows))
    }
}
