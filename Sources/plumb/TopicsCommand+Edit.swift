import ArgumentParser
import Foundation
import PlumbAPI

extension TopicsCommand {
    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete a topic made through the API, with its subscriptions (alert-file topics: edit the file).")
        @OptionGroup var client: ClientOptions
        @Argument(help: "Topic name.") var name: String

        func run() async throws {
            _ = try await client.request(.DELETE, "/api/v1/topics/\(name)")
            print("deleted topic \(name) and its subscriptions")
        }
    }

    struct DeliveryPolicyCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "delivery-policy",
            abstract: "Set or clear the retry policy of a topic or of one subscription (SNS's DeliveryPolicy).",
            discussion: """
                A subscription's policy wins over its topic's, which wins over the defaults (webhooks: 3 retries 20 s apart; \
                email: retries over 6 hours). It governs the next attempt of deliveries already queued too.
                  plumb topics delivery-policy --topic ops --retries 5 --min-delay 2 --max-delay 60 --backoff exponential
                  plumb topics delivery-policy --subscription sub-… --clear
                """)
        @OptionGroup var client: ClientOptions
        @Option(help: "The topic whose policy to set.") var topic: String?
        @Option(help: "The subscription (its id, as `plumb topics subscriptions` lists it) whose policy to set.")
        var subscription: String?
        @Option(help: "Retries after the first attempt (0–100).") var retries: Int?
        @Option(help: "Seconds before the first retry.") var minDelay: Double?
        @Option(help: "Seconds between retries at most.") var maxDelay: Double?
        @Option(help: "linear, arithmetic, geometric or exponential.") var backoff: String?
        @Flag(help: "Clear the policy (a topic's: the defaults; a subscription's: its topic's).") var clear = false

        func validate() throws {
            guard (topic == nil) != (subscription == nil) else {
                throw ValidationError("give exactly one of --topic or --subscription")
            }
            let given = retries != nil || minDelay != nil || maxDelay != nil || backoff != nil
            guard given != clear else {
                throw ValidationError("give --clear, or the policy (--retries, --min-delay, --max-delay, --backoff)")
            }
        }

        func run() async throws {
            let request = DeliveryPolicyRequest(
                deliveryPolicy: clear
                    ? nil
                    : DeliveryPolicyBody(numRetries: retries, minDelay: minDelay, maxDelay: maxDelay, backoff: backoff))
            let path =
                topic.map { "/api/v1/topics/\($0)/delivery-policy" }
                ?? "/api/v1/subscriptions/\(subscription ?? "")/delivery-policy"
            let body = try await client.send(.PUT, path, json: request)
            if client.output == .json { return client.printJSON(body) }
            print(
                "\(topic.map { "topic \($0)" } ?? "subscription \(subscription ?? "")"): \(clear ? "policy cleared" : "policy set")"
            )
        }
    }
}
