import ArgumentParser
import Foundation
import PlumbAPI

struct TopicsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "topics", abstract: "Topics, subscriptions, publishing and the delivery log.",
        subcommands: [
            List.self, Create.self, Delete.self, Subscriptions.self, Subscribe.self, Publish.self, Deliveries.self,
            Retry.self, DeliveryPolicyCommand.self,
        ],
        defaultSubcommand: List.self)

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every topic with its subscription counts.")
        @OptionGroup var client: ClientOptions

        func run() async throws {
            let (_, body) = try await client.request(.GET, "/api/v1/topics")
            if client.output == .json { return client.printJSON(body) }
            let topics = try client.decode(TopicList.self, body).topics
            guard !topics.isEmpty else { return print("no topics") }
            print(
                table(
                    ["NAME", "SOURCE", "SUBSCRIPTIONS", "CONFIRMED"],
                    topics.map {
                        [$0.name, $0.source, "\($0.subscriptions)", "\($0.confirmedSubscriptions)"]
                    }))
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a topic (idempotent).")
        @OptionGroup var client: ClientOptions
        @Argument(help: "Topic name: letters, digits, - and _.") var name: String

        func run() async throws {
            let body = try await client.send(.POST, "/api/v1/topics", json: TopicRequest(name: name))
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
            let subs = try client.decode(SubscriptionList.self, body).subscriptions
            guard !subs.isEmpty else { return print("no subscriptions on \(topic)") }
            print(
                table(
                    ["ID", "PROTOCOL", "STATUS", "SOURCE", "ENDPOINT"],
                    subs.map {
                        [$0.id, $0.protocol, $0.status, $0.source, $0.endpoint]
                    }))
        }
    }

    struct Subscribe: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Subscribe an email address or webhook URL (it receives a confirmation link first), or an Alertmanager."
        )
        @OptionGroup var client: ClientOptions
        @Argument(help: "Topic name.") var topic: String
        @Option(help: "email, webhook, function or alertmanager.") var `protocol`: String
        @Option(help: "The address, the URL, plugin.function, or the Alertmanager's base URL (http://HOST:9093).")
        var endpoint: String
        @Option(help: "Webhook format: plumb or alertmanager-webhook (the body Alertmanager sends its receivers).")
        var format = "plumb"
        @Option(help: "Webhook HMAC secret, at least 16 characters (default: $PLUMB_WEBHOOK_SECRET if set).")
        var secret: String?

        func run() async throws {
            let request = SubscriptionRequest(
                protocol: `protocol`, endpoint: endpoint,
                secret: secret ?? ProcessInfo.processInfo.environment["PLUMB_WEBHOOK_SECRET"],
                format: `protocol` == "webhook" ? format : nil)
            let body = try await client.send(.POST, "/api/v1/topics/\(topic)/subscriptions", json: request)
            if client.output == .json { return client.printJSON(body) }
            let s = try client.decode(SubscriptionDescription.self, body)
            if s.status == "Confirmed" { return print("\(s.id): Confirmed") }
            print("\(s.id): \(s.status) — a confirmation link was sent to \(endpoint)")
        }
    }

    struct Publish: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Publish a message to every confirmed subscription of a topic.")
        @OptionGroup var client: ClientOptions
        @Argument(help: "Topic name.") var topic: String
        @Option(help: "The message (- reads standard input).") var message: String
        @Option(help: "Subject line (email), up to 100 characters.") var subject: String?
        @Option(name: .customLong("attribute"), help: "NAME=VALUE, repeatable.") var attributes: [String] = []

        func run() async throws {
            var text = message
            if message == "-" { text = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self) }
            var map: [String: String] = [:]
            for a in attributes {
                let parts = a.split(separator: "=", maxSplits: 1)
                guard parts.count == 2 else { throw ValidationError("--attribute takes NAME=VALUE") }
                map[String(parts[0])] = String(parts[1])
            }
            let request = PublishRequest(subject: subject, message: text, attributes: map.isEmpty ? nil : map)
            let body = try await client.send(.POST, "/api/v1/topics/\(topic)/publish", json: request)
            if client.output == .json { return client.printJSON(body) }
            print("messageId \(try client.decode(PublishResponse.self, body).messageId)")
        }
    }

    struct Deliveries: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The delivery log: pending, delivered and failed (dead-letter) deliveries.")
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
            let page = try client.decode(DeliveryList.self, body)
            guard !page.deliveries.isEmpty else {
                return print("no deliveries" + (status.map { " with status \($0)" } ?? ""))
            }
            print(
                table(
                    ["ID", "TOPIC", "PROTOCOL", "STATUS", "ATTEMPTS", "MESSAGE", "LAST ERROR"],
                    page.deliveries.map {
                        [
                            "\($0.id)", $0.topic, $0.protocol, $0.status, "\($0.attempts)", $0.messageId,
                            String(($0.lastError ?? "").prefix(60)),
                        ]
                    }))
            print(
                "\n" + page.counts.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: "  "))
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
