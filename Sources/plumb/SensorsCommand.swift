import ArgumentParser
import Foundation
import NIOHTTP1

/// `plumb sensors …`: the detector registry from the terminal (the operator's side; devices post readings).
struct SensorsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sensors",
        abstract: "The sensor registry: projects, sites, detectors and their deployments (list, add, update, delete).",
        subcommands: [Projects.self, Sites.self, Detectors.self, Deploy.self, Deployments.self])

    static let base = "/apps/sensors"

    static func object(_ body: [UInt8]) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any]) ?? [:]
    }

    /// Sends `fields` (nil values left out) as JSON.
    static func send(
        _ client: ClientOptions, _ method: HTTPMethod, _ path: String, _ fields: [String: Any?]
    ) async throws -> [UInt8] {
        let object = fields.compactMapValues { $0 }
        return try await client.request(
            method, base + path, body: Array(try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]))
        ).body
    }

    static func list(_ client: ClientOptions, _ kind: String, columns: [String]) async throws {
        let body = try await client.request(.GET, base + "/" + kind).body
        if client.output == .json { return client.printJSON(body) }
        let items = object(body)["items"] as? [[String: Any]] ?? []
        guard !items.isEmpty else { return print("no \(kind)") }
        print(
            table(
                columns.map { $0.uppercased() },
                items.map { item in columns.map { item[$0].map { $0 is NSNull ? "-" : "\($0)" } ?? "-" } }))
    }

    static func done(_ client: ClientOptions, _ body: [UInt8], _ text: String) {
        client.output == .json ? client.printJSON(body) : print(text)
    }

    struct Projects: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "plumb sensors projects [list] | add ID [--name N] | rename ID NAME | delete ID",
            subcommands: [List.self, Add.self, Rename.self, Delete.self], defaultSubcommand: List.self)
        struct List: AsyncParsableCommand {
            @OptionGroup var client: ClientOptions
            func run() async throws { try await SensorsCommand.list(client, "projects", columns: ["id", "name"]) }
        }
        struct Add: AsyncParsableCommand {
            @OptionGroup var client: ClientOptions
            @Argument var id: String
            @Option var name: String?
            func run() async throws {
                let body = try await SensorsCommand.send(client, .POST, "/projects", ["id": id, "name": name])
                SensorsCommand.done(client, body, "added project \(id)")
            }
        }
        struct Rename: AsyncParsableCommand {
            @OptionGroup var client: ClientOptions
            @Argument var id: String
            @Argument var name: String
            func run() async throws {
                let body = try await SensorsCommand.send(
                    client, .PATCH, "/projects/\(ClientOptions.path(id))", ["name": name])
                SensorsCommand.done(client, body, "project \(id) is now '\(name)'")
            }
        }
        struct Delete: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Delete a project that has no sites.")
            @OptionGroup var client: ClientOptions
            @Argument var id: String
            func run() async throws {
                _ = try await client.request(.DELETE, SensorsCommand.base + "/projects/\(ClientOptions.path(id))")
                print("deleted project \(id)")
            }
        }
    }

    struct Sites: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "plumb sensors sites [list] | add ID --project P [--name --latitude --longitude] | update ID [...] | delete ID",
            subcommands: [List.self, Add.self, Update.self, Delete.self], defaultSubcommand: List.self)
        struct List: AsyncParsableCommand {
            @OptionGroup var client: ClientOptions
            func run() async throws {
                try await SensorsCommand.list(
                    client, "sites", columns: ["id", "project_id", "name", "latitude", "longitude"])
            }
        }
        struct Add: AsyncParsableCommand {
            @OptionGroup var client: ClientOptions
            @Argument var id: String
            @Option var project: String
            @Option var name: String?
            @Option(parsing: .unconditional) var latitude: Double?
            @Option(parsing: .unconditional) var longitude: Double?
            func run() async throws {
                let body = try await SensorsCommand.send(
                    client, .POST, "/sites",
                    ["id": id, "project": project, "name": name, "latitude": latitude, "longitude": longitude])
                SensorsCommand.done(client, body, "added site \(id) to project \(project)")
            }
        }
        struct Update: AsyncParsableCommand {
            @OptionGroup var client: ClientOptions
            @Argument var id: String
            @Option var name: String?
            @Option(parsing: .unconditional) var latitude: Double?
            @Option(parsing: .unconditional) var longitude: Double?
            func run() async throws {
                let body = try await SensorsCommand.send(
                    client, .PATCH, "/sites/\(ClientOptions.path(id))",
                    ["name": name, "latitude": latitude, "longitude": longitude])
                SensorsCommand.done(client, body, "updated site \(id)")
            }
        }
        struct Delete: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Delete a site no detector is or was deployed at.")
            @OptionGroup var client: ClientOptions
            @Argument var id: String
            func run() async throws {
                _ = try await client.request(.DELETE, SensorsCommand.base + "/sites/\(ClientOptions.path(id))")
                print("deleted site \(id)")
            }
        }
    }

    struct Detectors: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "plumb sensors detectors [list] | add ID [--site S --model M] | show ID | update ID --model M | delete ID",
            subcommands: [List.self, Add.self, Show.self, Update.self, Delete.self], defaultSubcommand: List.self)
        struct List: AsyncParsableCommand {
            @OptionGroup var client: ClientOptions
            func run() async throws {
                try await SensorsCommand.list(client, "detectors", columns: ["id", "model", "site_id", "status"])
            }
        }
        struct Add: AsyncParsableCommand {
            @OptionGroup var client: ClientOptions
            @Argument var id: String
            @Option var site: String?
            @Option var model: String?
            func run() async throws {
                let body = try await SensorsCommand.send(
                    client, .POST, "/detectors", ["id": id, "site": site, "model": model])
                SensorsCommand.done(client, body, "added detector \(id) (planned)")
            }
        }
        struct Show: AsyncParsableCommand {
            @OptionGroup var client: ClientOptions
            @Argument var id: String
            func run() async throws {
                let body = try await client.request(.GET, SensorsCommand.base + "/detectors/\(ClientOptions.path(id))")
                    .body
                if client.output == .json { return client.printJSON(body) }
                let d = SensorsCommand.object(body)
                print(
                    "\(id): \(d["model"] ?? "?"), \(d["status"] ?? "?") at \(d["site"].map { $0 is NSNull ? "no site" : "\($0)" } ?? "?"), \(d["readings"] ?? 0) readings"
                )
                for (n, h) in (d["history"] as? [[String: Any]] ?? []).enumerated() {
                    print(
                        "  \(n + 1). \(h["at"] ?? "") \(h["status"] ?? "") \(h["site"].map { $0 is NSNull ? "" : "at \($0)" } ?? "") \(h["note"].map { $0 is NSNull ? "" : "— \($0)" } ?? "")"
                    )
                }
            }
        }
        struct Update: AsyncParsableCommand {
            @OptionGroup var client: ClientOptions
            @Argument var id: String
            @Option var model: String
            func run() async throws {
                let body = try await SensorsCommand.send(
                    client, .PATCH, "/detectors/\(ClientOptions.path(id))", ["model": model])
                SensorsCommand.done(client, body, "detector \(id) is now a \(model)")
            }
        }
        struct Delete: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Delete a detector that never sent a reading (retire others with a deployment).")
            @OptionGroup var client: ClientOptions
            @Argument var id: String
            func run() async throws {
                _ = try await client.request(.DELETE, SensorsCommand.base + "/detectors/\(ClientOptions.path(id))")
                print("deleted detector \(id)")
            }
        }
    }

    struct Deploy: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Record a deployment: plumb sensors deploy D-1 --status deployed --site roof-1 [--note …]")
        @OptionGroup var client: ClientOptions
        @Argument var id: String
        @Option(help: "planned, deployed, retrieved or maintenance.") var status: String
        @Option var site: String?
        @Option var note: String?
        func run() async throws {
            let body = try await SensorsCommand.send(
                client, .POST, "/detectors/\(ClientOptions.path(id))/deployments",
                ["status": status, "site": site, "note": note])
            SensorsCommand.done(client, body, "detector \(id): \(status)\(site.map { " at \($0)" } ?? "")")
        }
    }

    struct Deployments: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Correct a detector's deployment history: note ID N TEXT | undo ID N (the newest entry only).",
            subcommands: [Note.self, Undo.self])
        struct Note: AsyncParsableCommand {
            @OptionGroup var client: ClientOptions
            @Argument var id: String
            @Argument(help: "The entry's number (plumb sensors detectors show ID).") var number: Int
            @Argument var text: String
            func run() async throws {
                let (path, n) = try Deployments.entry(id, number, client)
                let body = try await SensorsCommand.send(client, .PATCH, path + "/\(n)", ["note": text])
                SensorsCommand.done(client, body, "noted")
            }
        }
        struct Undo: AsyncParsableCommand {
            @OptionGroup var client: ClientOptions
            @Argument var id: String
            @Argument(help: "The entry's number (plumb sensors detectors show ID); only the newest can go.") var number:
                Int
            func run() async throws {
                let (path, n) = try Deployments.entry(id, number, client)
                let body = try await client.request(.DELETE, SensorsCommand.base + path + "/\(n)").body
                SensorsCommand.done(client, body, "removed entry \(number) of \(id)")
            }
        }

        /// Entries are numbered 1, 2, 3… as `show` lists them (1 is the registration), in the API as here.
        static func entry(_ id: String, _ number: Int, _ client: ClientOptions) throws -> (String, Int) {
            guard number >= 1 else {
                throw ValidationError("entries are numbered from 1 (plumb sensors detectors show \(id))")
            }
            return ("/detectors/\(ClientOptions.path(id))/deployments", number)
        }
    }
}
