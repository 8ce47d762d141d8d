import ArgumentParser
import Foundation
import PlumbAPI

/// `plumb policies …`.
struct PoliciesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policies", abstract: "IAM policies: list, show, put a JSON document, delete, simulate a request.",
        subcommands: [List.self, Get.self, Put.self, Delete.self, Simulate.self])

    struct List: AsyncParsableCommand {
        @OptionGroup var client: ClientOptions
        func run() async throws {
            let body = try await client.send(.GET, "/api/v1/iam/policies")
            if client.output == .json { return client.printJSON(body) }
            for p in try client.decode(PolicyList.self, body).policies { print(p.name) }
        }
    }

    struct Get: AsyncParsableCommand {
        @OptionGroup var client: ClientOptions
        @Argument var name: String
        func run() async throws {
            client.printJSON(try await client.send(.GET, "/api/v1/iam/policies/\(ClientOptions.path(name))"))
        }
    }

    struct Put: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Create or replace a policy from a JSON file ({\"Version\": \"2012-10-17\", \"Statement\": [...]}).")
        @OptionGroup var client: ClientOptions
        @Argument var name: String
        @Argument(help: "The policy document (JSON file).") var file: String
        func run() async throws {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw ValidationError("cannot read \(file)")
            }
            // Sent as written: the server checks the document and keeps it as given.
            _ = try await client.send(.PUT, "/api/v1/iam/policies/\(ClientOptions.path(name))", raw: [UInt8](data))
            print("put policy \(name)")
        }
    }

    struct Delete: AsyncParsableCommand {
        @OptionGroup var client: ClientOptions
        @Argument var name: String
        func run() async throws {
            _ = try await client.send(.DELETE, "/api/v1/iam/policies/\(ClientOptions.path(name))")
            print("deleted policy \(name)")
        }
    }

    struct Simulate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Would USER be allowed ACTION on RESOURCE? Prints the decision and the deciding statement.")
        @OptionGroup var client: ClientOptions
        @Argument var user: String
        @Argument(help: "e.g. alarms:PutAlarm") var action: String
        @Argument(help: "e.g. alarm/sensors-no-data") var resource: String
        func run() async throws {
            let body = try await client.send(
                .POST, "/api/v1/iam/simulate", json: SimulationRequest(user: user, action: action, resource: resource))
            if client.output == .json { return client.printJSON(body) }
            let result = try client.decode(SimulationResult.self, body)
            print(result.explanation)
            if !result.allowed { throw ExitCode(3) }
        }
    }
}
