import ArgumentParser
import Foundation
import PlumbAPI

extension LogsCommand {
    /// `plumb logs put GROUP STREAM < events`: one event a line, plain text or a JSON object with `message` (and
    /// `timestamp` in epoch milliseconds), sent in batches of at most 10,000 events or 1 MB as CloudWatch takes them.
    struct Put: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send log events from standard input: one a line, text or JSON {\"message\", \"timestamp\"}.",
            discussion: "journalctl -u myapp -o cat | plumb logs put /myapp/prod web-1")
        @OptionGroup var client: ClientOptions
        @Argument(help: "Log group (created on first use).") var group: String
        @Argument(help: "Log stream within the group.") var stream: String

        func run() async throws {
            var batch: [PutLogEventsRequest.Event] = []
            var bytes = 0
            var sent = 0
            func flush() async throws {
                guard !batch.isEmpty else { return }
                let body = try WireJSON.encode(PutLogEventsRequest(events: batch))
                _ = try await client.request(
                    .POST, LogsCommand.groupPath(group) + "/" + LogsCommand.encode(stream), body: body)
                sent += batch.count
                if batch.count == 10_000 { FileHandle.standardError.write(Data("sent \(sent) events\n".utf8)) }
                batch.removeAll()
                bytes = 0
            }
            while let line = readLine(strippingNewline: true) {
                guard !line.trimmingCharacters(in: .whitespaces).isEmpty else { continue }
                var event = PutLogEventsRequest.Event(message: line)
                // A JSON line with a string `message` gives the message (and an epoch-ms `timestamp`); any other line
                // is the message as it is.
                if line.hasPrefix("{"),
                    let object = (try? JSONDecoder().decode(JSONValue.self, from: Data(line.utf8)))?.object,
                    let message = object["message"]?.string
                {
                    event = PutLogEventsRequest.Event(message: message)
                    if case .number(let timestamp)? = object["timestamp"] { event.timestamp = timestamp }
                }
                let size = event.message.utf8.count + 26
                if batch.count == 10_000 || bytes + size > 1_000_000 { try await flush() }
                batch.append(event)
                bytes += size
            }
            try await flush()
            print("sent \(sent) events to \(group) \(stream)")
        }
    }

    struct Retention: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Set how many days a group keeps its events (never: keep them).",
            discussion: "plumb logs retention /myapp/prod 30      plumb logs retention /myapp/prod never")
        @OptionGroup var client: ClientOptions
        @Argument(help: "Log group.") var group: String
        @Argument(help: "Days (1, 3, 5, 7, 14, 30, … as CloudWatch takes them) or never.") var days: String

        func run() async throws {
            var request = RetentionRequest(days: nil)
            if days != "never" {
                guard let n = Int(days), n > 0 else {
                    throw ValidationError("days must be a whole number of days or 'never', not '\(days)'")
                }
                request.days = n
            }
            let (_, answer) = try await client.request(
                .PUT, LogsCommand.groupPath(group) + "/retention", body: try WireJSON.encode(request))
            if client.output == .json { return client.printJSON(answer) }
            print(days == "never" ? "\(group) keeps its events" : "\(group) keeps events \(days) days")
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete a log group: its streams, its events and the metric filters made through the API on it.",
            discussion:
                "Without --yes it says what would go and deletes nothing. /plumb/audit is never deleted; the server's other groups (/plumb/…) only with the admin token."
        )
        @OptionGroup var client: ClientOptions
        @Argument(help: "Log group.") var group: String
        @Flag(help: "Delete it (the events cannot be brought back).") var yes = false

        func run() async throws {
            guard yes else {
                let (_, body) = try await client.request(
                    .GET, "/api/v1/logs?prefix=" + LogsCommand.encode(group))
                guard
                    let found = try WireJSON.decode(LogGroupsResponse.self, body).groups.first(where: {
                        $0.name == group
                    })
                else {
                    throw CLIError("no log group '\(group)'")
                }
                print("would delete \(group) and its \(found.storedEvents) events; run again with --yes to delete it")
                return
            }
            _ = try await client.request(.DELETE, LogsCommand.groupPath(group))
            print("deleted log group \(group)")
        }
    }
}
