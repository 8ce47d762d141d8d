import ArgumentParser
import Foundation

struct FunctionsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "functions", abstract: "List hosted functions and set their concurrency.",
        subcommands: [List.self, Describe.self, SetConcurrency.self, Invoke.self, Events.self, Scaling.self], defaultSubcommand: List.self)

    struct Describe: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One function: trigger, concurrency, instances and autoscaler settings.")
        @OptionGroup var client: ClientOptions
        @Argument(help: "Function name, e.g. sentiment.classify.") var name: String

        func run() async throws {
            let (_, body) = try await client.request(.GET, "/api/v1/functions/\(name)")
            if client.output == .json { return client.printJSON(body) }
            let f = (try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any]) ?? [:]
            func line(_ label: String, _ value: Any?) {
                print("\(label.padding(toLength: 30, withPad: " ", startingAt: 0))\(value.map { "\($0)" } ?? "-")")
            }
            for key in ["name", "plugin", "kind", "trigger", "reservedConcurrency", "provisionedConcurrency", "concurrentExecutions",
                        "maxConcurrencyPerInstance", "instances", "provisionedInstances", "initializingInstances", "coldStarts", "reportLog"] {
                line(key, f[key])
            }
            guard let a = f["autoscaling"] as? [String: Any] else { return }
            print("autoscaling")
            for key in ["enabled", "targetUtilization", "stableWindowSeconds", "panicWindowSeconds", "panicThreshold", "maxScaleUpPer10s",
                        "maxScaleDownFactor", "scaleToZeroGraceSeconds", "minInstances", "maxInstances", "desiredInstances", "panicking"] {
                line("  " + key, a[key])
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
            commandName: "set-concurrency",
            abstract: "Reserve concurrency for a function (or clear the reservation) and set its provisioned concurrency.",
            discussion: """
                Reserved concurrency caps the function and sets that much of the account limit aside for it; 0 throttles
                every call. Provisioned concurrency keeps that many instances initialised and warm (0 clears it); it must
                fit within the reservation, or the unreserved pool.
                """)
        @OptionGroup var client: ClientOptions
        @Argument(help: "Function name, e.g. sentiment.classify.") var name: String
        @Option(help: "Reserved concurrency (0 throttles every call).") var reserved: Int?
        @Flag(help: "Clear the reservation: the function shares the unreserved pool.") var clear = false
        @Option(help: "Provisioned concurrency: instances kept warm (0 clears it).") var provisioned: Int?

        func validate() throws {
            guard !(reserved != nil && clear) else { throw ValidationError("give --reserved N or --clear, not both") }
            guard reserved != nil || clear || provisioned != nil else { throw ValidationError("give --reserved N, --clear and/or --provisioned M") }
            if let reserved, reserved < 0 { throw ValidationError("--reserved must be 0 or more") }
            if let provisioned, provisioned < 0 { throw ValidationError("--provisioned must be 0 or more") }
        }

        func run() async throws {
            var payload: [String: Any] = [:]
            if let reserved { payload["reserved"] = reserved }
            if clear { payload["reserved"] = NSNull() }
            if let provisioned { payload["provisioned"] = provisioned }
            let (_, body) = try await client.request(.PUT, "/api/v1/functions/\(name)/concurrency", body: Array(try JSONSerialization.data(withJSONObject: payload)))
            if client.output == .json { return client.printJSON(body) }
            let f = (try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any]) ?? [:]
            let reservedText = (f["reservedConcurrency"] as? Int).map { "reserved concurrency \($0)" } ?? "no reservation"
            print("\(name): \(reservedText), provisioned concurrency \(f["provisionedConcurrency"] ?? 0) (\(f["instances"] ?? 0) instances warm)")
        }
    }

    struct Scaling: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "A function's warm instances and its recent scaling activities, newest first.",
            discussion: "Every activity is also in the log group /plumb/scaling: plumb logs filter /plumb/scaling '{ $.metadata.function = \"NAME\" }'.")
        @OptionGroup var client: ClientOptions
        @Argument(help: "Function name.") var name: String
        @Option(help: "Activities to show (1–500).") var limit = 20

        func run() async throws {
            let (_, body) = try await client.request(.GET, "/api/v1/functions/\(name)/scaling?limit=\(limit)")
            if client.output == .json { return client.printJSON(body) }
            let s = (try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any]) ?? [:]
            let a = s["autoscaling"] as? [String: Any] ?? [:]
            let enabled = a["enabled"] as? Bool ?? false
            print("\(name): \(s["instances"] ?? 0) instances (\(s["provisionedInstances"] ?? 0) provisioned, \(s["initializingInstances"] ?? 0) initialising), concurrency \(String(format: "%.2f", s["concurrency"] as? Double ?? 0))")
            if enabled {
                print("autoscaler: desired \(a["desiredInstances"] ?? "-"), target utilisation \(a["targetUtilization"] ?? "-"), \(a["minInstances"] ?? 0)–\(a["maxInstances"] ?? 0) instances\((a["panicking"] as? Bool ?? false) ? ", PANIC mode" : "")")
            } else {
                print("autoscaler: off (instances are created on demand and kept)")
            }
            let activities = s["activities"] as? [[String: Any]] ?? []
            guard !activities.isEmpty else { return print("no scaling activities yet") }
            print("")
            print(table(["TIME", "FROM", "TO", "STABLE", "PANIC", "REASON"], activities.map {
                [$0["time"] as? String ?? "", "\($0["from"] ?? "")", "\($0["to"] ?? "")",
                 String(format: "%.1f", $0["stableConcurrency"] as? Double ?? 0), String(format: "%.1f", $0["panicConcurrency"] as? Double ?? 0),
                 $0["reason"] as? String ?? ""]
            }))
        }
    }
}
