import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore

struct LogsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logs", abstract: "Log groups: list them, search one with a filter pattern, or follow it live.",
        discussion: """
            Filter patterns are CloudWatch Logs': terms (ERROR Exception), ?a ?b (any), -term (none), "a phrase", \
            JSON ({ $.level = "ERROR" && $.latency > 100 }) and space-delimited ([ip, user, ..., status=5*, bytes]).
            """,
        subcommands: [Groups.self, Filter.self, Tail.self], defaultSubcommand: Groups.self)

    static func groupPath(_ group: String) -> String {
        "/api/v1/logs/" + (group.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? group)
    }

    static func encode(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }

    /// `time stream message`, one line per event.
    static func line(_ event: [String: Any]) -> String {
        "\(event["time"] as? String ?? "")  \(event["stream"] as? String ?? "")  \(event["message"] as? String ?? "")"
    }

    struct Groups: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every log group with its event count and retention.")
        @OptionGroup var client: ClientOptions

        func run() async throws {
            let (_, body) = try await client.request(.GET, "/api/v1/logs")
            if client.output == .json { return client.printJSON(body) }
            let groups = (try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])?["groups"] as? [[String: Any]] ?? []
            guard !groups.isEmpty else { return print("no log groups") }
            print(table(["GROUP", "EVENTS", "RETENTION"], groups.map {
                [$0["name"] as? String ?? "", "\($0["storedEvents"] ?? 0)", ($0["retentionDays"] as? Int).map { "\($0) days" } ?? "never expire"]
            }))
        }
    }

    struct Filter: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Search a group: events matching a pattern in a time range.")
        @OptionGroup var client: ClientOptions
        @Argument(help: "Log group, e.g. /plumb/server.") var group: String
        @Argument(help: "Filter pattern (empty: every event).") var pattern: String = ""
        @Option(help: "Start: RFC 3339, epoch seconds or relative (-1h, 30m).") var since = "1h"
        @Option(help: "End (default now).") var until: String?
        @Option(help: "Only streams starting with this.") var stream: String?
        @Option(help: "Most events to print.") var limit = 100
        @Flag(help: "Newest first.") var newest = false

        func run() async throws {
            // "1h" means an hour ago; RFC 3339 and epoch seconds pass through.
            let absolute = since.contains("T") || since.allSatisfy(\.isNumber)
            let start = absolute || since.hasPrefix("-") ? since : "-" + since
            var path = LogsCommand.groupPath(group) + "?limit=\(min(limit, 10_000))&start=\(LogsCommand.encode(start))"
            if !pattern.isEmpty { path += "&filter=\(LogsCommand.encode(pattern))" }
            if let until { path += "&end=\(LogsCommand.encode(until))" }
            if let stream { path += "&stream=\(LogsCommand.encode(stream))" }
            if newest { path += "&order=newest" }
            var printed = 0
            var next: String?
            repeat {
                let (_, body) = try await client.request(.GET, path + (next.map { "&next=\(LogsCommand.encode($0))" } ?? ""))
                if client.output == .json { return client.printJSON(body) }
                let object = try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any]
                for event in object?["events"] as? [[String: Any]] ?? [] where printed < limit {
                    print(LogsCommand.line(event))
                    printed += 1
                }
                next = object?["next"] as? String
            } while next != nil && printed < limit
            if printed == 0 { FileHandle.standardError.write(Data("no matching events\n".utf8)) }
        }
    }

    struct Tail: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Follow a group: print new events as they arrive (Ctrl-C stops).")
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
            var request = HTTPClientRequest(url: client.server.trimmingCharacters(in: CharacterSet(charactersIn: "/")) + path)
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
                    } else if let event = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] {
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
    @Option(help: "Start: RFC 3339, epoch seconds or relative (-24h).") var since = "-24h"
    @Option(help: "Most entries to print (newest first).") var limit = 100

    func run() async throws {
        let path = LogsCommand.groupPath("/plumb/audit") + "?order=newest&limit=\(limit)&start=\(LogsCommand.encode(since))"
        let (status, body): (Int, [UInt8])
        do {
            (status, body) = try await client.request(.GET, path)
        } catch let error as CLIError where error.description.hasPrefix("404") {
            return print("no audit entries yet")
        }
        _ = status
        if client.output == .json { return client.printJSON(body) }
        let events = (try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])?["events"] as? [[String: Any]] ?? []
        let rows = events.compactMap { e -> [String]? in
            guard let message = e["message"] as? String,
                let entry = try? JSONSerialization.jsonObject(with: Data(message.utf8)) as? [String: Any]
            else { return nil }
            return [entry["time"] as? String ?? "", entry["actor"] as? String ?? "", entry["source"] as? String ?? "",
                    "\(entry["status"] ?? "")", entry["action"] as? String ?? "", entry["resource"] as? String ?? ""]
        }
        guard !rows.isEmpty else { return print("no audit entries in range") }
        print(table(["TIME", "ACTOR", "SOURCE", "STATUS", "ACTION", "RESOURCE"], rows))
    }
}
