import ArgumentParser
import Foundation

struct FunctionsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "functions", abstract: "List hosted functions and set their concurrency.",
        subcommands: [List.self, Describe.self, SetConcurrency.self, Invoke.self, Events.self], defaultSubcommand: List.self)

    struct Describe: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One function: trigger and concurrency.")
        @OptionGroup var client: ClientOptions
        @Argument(help: "Function name, e.g. sentiment.classify.") var name: String

        func run() async throws {
            let (_, body) = try await client.request(.GET, "/api/v1/functions/\(name)")
            if client.output == .json { return client.printJSON(body) }
            let f = (try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any]) ?? [:]
            for key in ["name", "plugin", "kind", "trigger", "reservedConcurrency", "provisionedConcurrency", "concurrentExecutions"] {
                print("\(key.padding(toLength: 24, withPad: " ", startingAt: 0))\(f[key].map { "\($0)" } ?? "-")")
            }
        }
    }

    struct Invoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Invoke a function with a JSON payload: synchronously (prints the response) or --async (queued, retried).")
        @OptionGroup var client: ClientOptions
        @Argument(help: "Function name.") var name: String
        @Option(help: "JSON payload (- reads standard input).") var payload = "{}"
        @Flag(name: .customLong("async"), help: "Queue the event (Lambda's Event invocation) and print its id.") var asynchronous = false

        func run() async throws {
            var text = payload
            if payload == "-" { text = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self) }
            guard (try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])) != nil else {
                throw ValidationError("--payload is not valid JSON")
            }
            let (_, body) = try await client.request(
                .POST, "/api/v1/functions/\(name)/invoke?type=\(asynchronous ? "Event" : "RequestResponse")", body: Array(text.utf8))
            if asynchronous && client.output == .text {
                let id = (try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])?["eventId"] ?? "?"
                return print("queued event \(id)")
            }
            client.printJSON(body)
        }
    }

    struct Events: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A function's async events: pending, succeeded and failed.")
        @OptionGroup var client: ClientOptions
        @Argument(help: "Function name.") var name: String
        @Option(help: "pending, succeeded or failed.") var status: String?

        func run() async throws {
            let (_, body) = try await client.request(.GET, "/api/v1/functions/\(name)/events" + (status.map { "?status=\($0)" } ?? ""))
            if client.output == .json { return client.printJSON(body) }
            let events = (try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])?["events"] as? [[String: Any]] ?? []
            guard !events.isEmpty else { return print("no events") }
            print(table(["ID", "STATUS", "ATTEMPTS", "LAST ERROR"], events.map {
                ["\($0["id"] ?? "")", $0["status"] as? String ?? "", "\($0["attempts"] ?? 0)", String(($0["lastError"] as? String ?? "").prefix(80))]
            }))
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every function with its trigger and concurrency.")
        @OptionGroup var client: ClientOptions

        func run() async throws {
            let (_, body) = try await client.request(.GET, "/api/v1/functions")
            if client.output == .json { return client.printJSON(body) }
            let object = try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any]
            let functions = object?["functions"] as? [[String: Any]] ?? []
            let rows = functions.map { f in
                [f["name"] as? String ?? "", f["kind"] as? String ?? "", (f["reservedConcurrency"] as? Int).map(String.init) ?? "-",
                 String(f["concurrentExecutions"] as? Int ?? 0), f["trigger"] as? String ?? ""]
            }
            print(table(["NAME", "KIND", "RESERVED", "RUNNING", "TRIGGER"], rows))
            if let account = object?["account"] as? [String: Any] {
                print("\naccount: \(account["concurrentExecutions"] ?? 0) running of \(account["concurrencyLimit"] ?? 0); unreserved pool \(account["unreservedConcurrencyLimit"] ?? 0)")
            }
        }
    }

    struct SetConcurrency: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set-concurrency", abstract: "Reserve concurrency for a function (or clear the reservation).")
        @OptionGroup var client: ClientOptions
        @Argument(help: "Function name, e.g. sentiment.classify.") var name: String
        @Option(help: "Reserved concurrency (0 throttles every call).") var reserved: Int?
        @Flag(help: "Clear the reservation: the function shares the unreserved pool.") var clear = false

        func validate() throws {
            guard (reserved != nil) != clear else { throw ValidationError("give exactly one of --reserved N or --clear") }
        }

        func run() async throws {
            let payload: [String: Any] = ["reserved": reserved.map { $0 as Any } ?? NSNull()]
            let (_, body) = try await client.request(.PUT, "/api/v1/functions/\(name)/concurrency", body: Array(try JSONSerialization.data(withJSONObject: payload)))
            if client.output == .json { return client.printJSON(body) }
            print(reserved.map { "\(name): reserved concurrency \($0)" } ?? "\(name): reservation cleared")
        }
    }
}
