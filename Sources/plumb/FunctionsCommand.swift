import ArgumentParser
import Foundation
import PlumbAPI

struct FunctionsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "functions",
        abstract: "List hosted functions, set their concurrency, and make, update or delete Lambda handlers.",
        subcommands: [
            List.self, Describe.self, SetConcurrency.self, Invoke.self, Events.self, Scaling.self, Create.self,
            Update.self, Delete.self,
        ],
        defaultSubcommand: List.self)

    struct Describe: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "One function: trigger, concurrency, instances and autoscaler settings.")
        @OptionGroup var client: ClientOptions
        @Argument(help: "Function name, e.g. sentiment.classify.") var name: String

        func run() async throws {
            let (_, body) = try await client.request(.GET, "/api/v1/functions/\(name)")
            if client.output == .json { return client.printJSON(body) }
            let f = try client.decode(FunctionDescription.self, body)
            func line(_ label: String, _ value: String?) {
                print("\(label.padding(toLength: 30, withPad: " ", startingAt: 0))\(value ?? "-")")
            }
            let fields: [(String, String?)] = [
                ("name", f.name), ("plugin", f.plugin), ("kind", f.kind), ("trigger", f.trigger),
                ("reservedConcurrency", f.reservedConcurrency.map(String.init)),
                ("provisionedConcurrency", "\(f.provisionedConcurrency)"),
                ("concurrentExecutions", "\(f.concurrentExecutions)"),
                ("maxConcurrencyPerInstance", "\(f.maxConcurrencyPerInstance)"),
                ("instances", "\(f.instances)"), ("provisionedInstances", "\(f.provisionedInstances)"),
                ("initializingInstances", "\(f.initializingInstances)"), ("coldStarts", "\(f.coldStarts)"),
                ("reportLog", f.reportLog), ("memoryMB", "\(f.memoryMB)"),
            ]
            for (key, value) in fields { line(key, value) }
            if let lambda = f.lambda {
                print("lambda")
                let lambdaFields: [(String, String?)] = [
                    ("runtime", lambda.runtime), ("handler", lambda.handler), ("timeout", "\(lambda.timeout) s"),
                    ("role", lambda.role), ("definedBy", lambda.definedBy), ("description", lambda.description),
                    ("environment", lambda.environment.keys.sorted().joined(separator: ", ")),
                    ("codeSHA256", lambda.codeSHA256), ("codeSize", lambda.codeSize.map(String.init)),
                ]
                for (key, value) in lambdaFields { line("  " + key, value) }
            }
            print("autoscaling")
            for (key, value) in Self.autoscalingFields(f.autoscaling) { line("  " + key, value) }
        }

        /// The autoscaler's settings in the order `describe` has always shown them.
        static func autoscalingFields(_ a: AutoscalingDescription) -> [(String, String?)] {
            [
                ("enabled", LegacyJSONText.flag(a.enabled)),
                ("targetUtilization", LegacyJSONText.number(a.targetUtilization)),
                ("stableWindowSeconds", LegacyJSONText.number(a.stableWindowSeconds)),
                ("panicWindowSeconds", LegacyJSONText.number(a.panicWindowSeconds)),
                ("panicThreshold", LegacyJSONText.number(a.panicThreshold)),
                ("maxScaleUpPer10s", "\(a.maxScaleUpPer10s)"),
                ("maxScaleDownFactor", LegacyJSONText.number(a.maxScaleDownFactor)),
                ("scaleToZeroGraceSeconds", LegacyJSONText.number(a.scaleToZeroGraceSeconds)),
                ("minInstances", "\(a.minInstances)"),
                ("maxInstances", "\(a.maxInstances)"), ("desiredInstances", a.desiredInstances.map(String.init)),
                ("panicking", LegacyJSONText.flag(a.panicking)),
            ]
        }
    }

    struct Invoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Invoke a function with a JSON payload: synchronously (prints the response) or --async (queued, retried)."
        )
        @OptionGroup var client: ClientOptions
        @Argument(help: "Function name.") var name: String
        @Option(help: "JSON payload (- reads standard input).") var payload = "{}"
        @Flag(name: .customLong("async"), help: "Queue the event (Lambda's Event invocation) and print its id.")
        var asynchronous = false

        func run() async throws {
            var text = payload
            if payload == "-" { text = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self) }
            // The payload is free-form (the function's own input): only checked to be JSON, then sent as written.
            guard (try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])) != nil else {
                throw ValidationError("--payload is not valid JSON")
            }
            let (_, body) = try await client.request(
                .POST, "/api/v1/functions/\(name)/invoke?type=\(asynchronous ? "Event" : "RequestResponse")",
                body: Array(text.utf8))
            if asynchronous && client.output == .text {
                let id =
                    (try? JSONDecoder().decode(AsyncInvocation.self, from: Data(body))).map { "\($0.eventId)" } ?? "?"
                return print("queued event \(id)")
            }
            // The function's response, whatever shape it chose.
            client.printJSON(body)
        }
    }

    struct Events: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "A function's async events: pending, succeeded and failed.")
        @OptionGroup var client: ClientOptions
        @Argument(help: "Function name.") var name: String
        @Option(help: "pending, succeeded or failed.") var status: String?

        func run() async throws {
            let (_, body) = try await client.request(
                .GET, "/api/v1/functions/\(name)/events" + (status.map { "?status=\($0)" } ?? ""))
            if client.output == .json { return client.printJSON(body) }
            let events = try client.decode(AsyncEventList.self, body).events
            guard !events.isEmpty else { return print("no events") }
            print(
                table(
                    ["ID", "STATUS", "ATTEMPTS", "LAST ERROR"],
                    events.map {
                        ["\($0.id)", $0.status, "\($0.attempts)", String(($0.lastError ?? "").prefix(80))]
                    }))
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every function with its trigger and concurrency.")
        @OptionGroup var client: ClientOptions

        func run() async throws {
            let (_, body) = try await client.request(.GET, "/api/v1/functions")
            if client.output == .json { return client.printJSON(body) }
            let list = try client.decode(FunctionList.self, body)
            let rows = list.functions.map { f in
                [
                    f.name, f.kind, f.reservedConcurrency.map(String.init) ?? "-", String(f.concurrentExecutions),
                    f.trigger,
                ]
            }
            print(table(["NAME", "KIND", "RESERVED", "RUNNING", "TRIGGER"], rows))
            let account = list.account
            print(
                "\naccount: \(account.concurrentExecutions) running of \(account.concurrencyLimit); unreserved pool \(account.unreservedConcurrencyLimit)"
            )
        }
    }

    struct SetConcurrency: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set-concurrency",
            abstract:
                "Reserve concurrency for a function (or clear the reservation) and set its provisioned concurrency.",
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
            guard reserved != nil || clear || provisioned != nil else {
                throw ValidationError("give --reserved N, --clear and/or --provisioned M")
            }
            if let reserved, reserved < 0 { throw ValidationError("--reserved must be 0 or more") }
            if let provisioned, provisioned < 0 { throw ValidationError("--provisioned must be 0 or more") }
        }

        func run() async throws {
            let change = ConcurrencyRequest(
                reserved: clear ? .some(nil) : reserved.map { .some($0) }, provisioned: provisioned)
            let body = try await client.send(.PUT, "/api/v1/functions/\(name)/concurrency", json: change)
            if client.output == .json { return client.printJSON(body) }
            let f = try client.decode(FunctionDescription.self, body)
            let reservedText = f.reservedConcurrency.map { "reserved concurrency \($0)" } ?? "no reservation"
            print(
                "\(name): \(reservedText), provisioned concurrency \(f.provisionedConcurrency) (\(f.instances) instances warm)"
            )
        }
    }

    struct Scaling: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "A function's warm instances and its recent scaling activities, newest first.",
            discussion:
                "Every activity is also in the log group /plumb/scaling: plumb logs filter /plumb/scaling '{ $.metadata.function = \"NAME\" }'."
        )
        @OptionGroup var client: ClientOptions
        @Argument(help: "Function name.") var name: String
        @Option(help: "Activities to show (1–500).") var limit = 20

        func run() async throws {
            let (_, body) = try await client.request(.GET, "/api/v1/functions/\(name)/scaling?limit=\(limit)")
            if client.output == .json { return client.printJSON(body) }
            let s = try client.decode(ScalingDescription.self, body)
            let a = s.autoscaling
            print(
                "\(name): \(s.instances) instances (\(s.provisionedInstances) provisioned, \(s.initializingInstances) initialising), concurrency \(String(format: "%.2f", s.concurrency))"
            )
            if a.enabled {
                let desired = a.desiredInstances.map(String.init) ?? "-"
                print(
                    "autoscaler: desired \(desired), target utilisation \(LegacyJSONText.number(a.targetUtilization)), \(a.minInstances)–\(a.maxInstances) instances\(a.panicking ? ", PANIC mode" : "")"
                )
            } else {
                print("autoscaler: off (instances are created on demand and kept)")
            }
            guard !s.activities.isEmpty else { return print("no scaling activities yet") }
            print("")
            print(
                table(
                    ["TIME", "FROM", "TO", "STABLE", "PANIC", "REASON"],
                    s.activities.map {
                        [
                            $0.time, "\($0.from)", "\($0.to)", String(format: "%.1f", $0.stableConcurrency),
                            String(format: "%.1f", $0.panicConcurrency), $0.reason,
                        ]
                    }))
        }
    }
}
