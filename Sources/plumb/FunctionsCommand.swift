import ArgumentParser
import Foundation

struct FunctionsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "functions", abstract: "List hosted functions and set their concurrency.",
        subcommands: [List.self, SetConcurrency.self], defaultSubcommand: List.self)

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
