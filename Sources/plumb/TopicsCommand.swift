import ArgumentParser
import Foundation

struct TopicsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "topics", abstract: "Topics, subscriptions, publishing and the delivery log.",
        subcommands: [List.self, Create.self, Subscriptions.self, Subscribe.self, Publish.self, Deliveries.self, Retry.self],
        defaultSubcommand: List.self)

    static func json(_ body: [UInt8]) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any]) ?? [:]
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every topic with its subscription counts.")
        @OptionGroup var client: ClientOptions

        func run() async throws {
            let (_, body) = try await client.request(.GET, "/api/v1/topics")
            if client.output == .json { return client.printJSON(body) }
            let topics = TopicsCommand.json(body)["topics"] as? [[String: Any]] ?? []
            guard !topics.isEmpty else { return print("no topics") }
            print(table(["NAME", "SOURCE", "SUBSCRIPTIONS", "CONFIRMED"], topics.map {
                [$0["name"] as? String ?? "", $0["source"] as? String ?? "", "\($0["subscriptions"] ?? 0)", "\($0["confirmedSubscriptions"] ?? 0)"]
            }))
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a topic (idempotent).")
        @OptionGroup var client: ClientOptions
        @Argument(help: "Topic name: letters, digits, - and _.") var name: String

        func run() async throws {
            let (_, body) = try await client.request(.POST, "/api/v1/topics", body: Array(try JSONSerialization.data(withJSONObject: ["name": name])))
            if client.output == .json { return client.printJSON(body) }
            print("topic \(name) ready")
        }
    }

    struct Subscriptions: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A topic's subscriptions.")
        @OptionGroup var client: ClientOptions
        @Argument(help: "Topic name.") var topic: String

        func run() async throws {
            let (_, body) = try await client.request(.GET, "/api/v1/topics/\(topic)/subscriptions")
            if client.output == .json { return client.printJSON(body) }
            let subs = TopicsCommand.json(body)["subscriptions"] as? [[String: Any]] ?? []
            guard !subs.isEmpty else { return print("no subscriptions on \(topic)") }
            print(table(["ID", "PROTOCOL", "STATUS", "SOURCE", "ENDPOINT"], subs.map {
                [$0["id"] as? String ?? "", $0["protocol"] as? String ?? "", $0["status"] as? String ?? "", $0["source"] as? String ?? "", $0["endpoint"] as? String ?? ""]
            }))
        }
    }

    struct Subscribe: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Subscribe an email address or webhook URL (it receives a confirmation link first), or an Alertmanager.")
        @OptionGroup var client: ClientOptions
        @Argument(help: "Topic name.") var topic: String
        @Option(help: "email, webhook, function or alertmanager.") var `protocol`: String
        @Option(help: "The address, the URL, plugin.function, or the Alertmanager's base URL (http://HOST:9093).") var endpoint: String
        @Option(help: "Webhook format: plumb or alertmanager-webhook (the body Alertmanager sends its receivers).") var format = "plumb"
        @Option(help: "Webhook HMAC secret, at least 16 characters (default: $PLUMB_WEBHOOK_SECRET if set).") var secret: String?

        func run() async throws {
            var payload: [String: Any] = ["protocol": `protocol`, "endpoint": endpoint]
            if `protocol` == "webhook" { payload["format"] = format }
            if let s = secret ?? ProcessInfo.processInfo.environment["PLUMB_WEBHOOK_SECRET"] { payload["secret"] = s }
            let (_, body) = try await client.request(.POST, "/api/v1/topics/\(topic)/subscriptions", body: Array(try JSONSerialization.data(withJSONObject: payload)))
            if client.output == .json { return client.printJSON(body) }
            let s = TopicsCommand.json(body)
            if s["status"] as? String == "Confirmed" { return print("\(s["id"] ?? ""): Confirmed") }
            print("\(s["id"] ?? ""): \(s["status"] ?? "") — a confirmation link was sent to \(endpoint)")
        }
    }

    struct Publish: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Publish a message to every confirmed subscription of a topic.")
        @OptionGroup var client: ClientOptions
        @Argument(help: "Topic name.") var topic: String
        @Option(help: "The message (- reads standard input).") var message: String
        @Option(help: "Subject line (email), up to 100 characters.") var subject: String?
        @Option(name: .customLong("attribute"), help: "NAME=VALUE, repeatable.") var attributes: [String] = []

        func run() async throws {
            var text = message
            if message == "-" { text = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self) }
            var payload: [String: Any] = ["message": text]
            if let subject { payload["subject"] = subject }
            var map: [String: String] = [:]
            for a in attributes {
                let parts = a.split(separator: "=", maxSplits: 1)
                guard parts.count == 2 else { throw ValidationError("--attribute takes NAME=VALUE") }
                map[String(parts[0])] = String(parts[1])
            }
            if !map.isEmpty { payload["attributes"] = map }
            let (_, body) = try await client.request(.POST, "/api/v1/topics/\(topic)/publish", body: Array(try JSONSerialization.data(withJSONObject: payload)))
            if client.output == .json { return client.printJSON(body) }
            print("messageId \(TopicsCommand.json(body)["messageId"] ?? "")")
        }
    }

    struct Deliveries: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The delivery log: pending, delivered and failed (dead-letter) deliveries.")
        @OptionGroup var client: ClientOptions
        @Option(help: "Only this topic.") var topic: String?
        @Option(help: "pending, delivered, failed or superseded.") var status: String?
        @Option(help: "How many (1–1000).") var limit = 50

        func run() async throws {
            var path = "/api/v1/deliveries?limit=\(limit)"
            if let topic { path += "&topic=\(topic)" }
            if let status { path += "&status=\(status)" }
            let (_, body) = try await client.request(.GET, path)
            if client.output == .json { return client.printJSON(body) }
            let object = TopicsCommand.json(body)
            let list = object["deliveries"] as? [[String: Any]] ?? []
            guard !list.isEmpty else { return print("no deliveries" + (status.map { " with status \($0)" } ?? "")) }
            print(table(["ID", "TOPIC", "PROTOCOL", "STATUS", "ATTEMPTS", "MESSAGE", "LAST ERROR"], list.map {
                ["\($0["id"] ?? "")", $0["topic"] as? String ?? "", $0["protocol"] as? String ?? "", $0["status"] as? String ?? "",
                 "\($0["attempts"] ?? 0)", $0["messageId"] as? String ?? "", String(($0["lastError"] as? String ?? "").prefix(60))]
            }))
            if let counts = object["counts"] as? [String: Any] {
                print("\n" + counts.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: "  "))
            }
        }
    }

    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Send a failed delivery again.")
        @OptionGroup var client: ClientOptions
        @Argument(help: "Delivery id.") var id: Int

        func run() async throws {
            let (_, body) = try await client.request(.POST, "/api/v1/deliveries/\(id)/retry")
            if client.output == .json { return client.printJSON(body) }
            print("delivery \(id) is pending again")
        }
    }
}
