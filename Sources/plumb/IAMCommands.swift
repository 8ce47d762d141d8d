import ArgumentParser
import Foundation
import NIOHTTP1

/// Shared by the IAM commands: a JSON body and the printed answer.
extension ClientOptions {
    func send(_ method: HTTPMethod, _ path: String, _ object: [String: Any]? = nil, raw: [UInt8]? = nil) async throws -> [UInt8] {
        let body = try raw ?? object.map { Array(try JSONSerialization.data(withJSONObject: $0)) }
        return try await request(method, path, body: body).body
    }

    static func path(_ s: String) -> String { s.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~@+"))) ?? s }
}

/// `plumb users …`: platform users and their API tokens.
struct UsersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "users", abstract: "Platform API users: list, create, disable, issue API tokens, attach policies.",
        subcommands: [List.self, Create.self, Disable.self, Token.self, Attach.self])

    struct List: AsyncParsableCommand {
        @OptionGroup var client: ClientOptions
        func run() async throws {
            let body = try await client.send(.GET, "/api/v1/iam/users")
            if client.output == .json { return client.printJSON(body) }
            let users = (try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])?["users"] as? [[String: Any]] ?? []
            print(table(["USER", "DISABLED", "GROUPS", "POLICIES"], users.map {
                [$0["name"] as? String ?? "", ($0["disabled"] as? Bool ?? false) ? "yes" : "no",
                 ($0["groups"] as? [String] ?? []).joined(separator: ","), ($0["policies"] as? [String] ?? []).joined(separator: ",")]
            }))
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a user, optionally in groups (e.g. --group monitoring-writer).")
        @OptionGroup var client: ClientOptions
        @Argument var name: String
        @Option(help: "A group to add the user to (repeatable).") var group: [String] = []
        func run() async throws {
            _ = try await client.send(.POST, "/api/v1/iam/users", ["name": name])
            for g in group { _ = try await client.send(.PUT, "/api/v1/iam/groups/\(ClientOptions.path(g))/members/\(ClientOptions.path(name))") }
            print("created user \(name)" + (group.isEmpty ? "" : " in \(group.joined(separator: ", "))"))
        }
    }

    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Disable a user; their API tokens stop working at once.")
        @OptionGroup var client: ClientOptions
        @Argument var name: String
        func run() async throws {
            _ = try await client.send(.POST, "/api/v1/iam/users/\(ClientOptions.path(name))/disable")
            print("disabled \(name)")
        }
    }

    struct Token: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Issue an API token for a user (shown once; give it to `plumb login`).")
        @OptionGroup var client: ClientOptions
        @Argument var name: String
        func run() async throws {
            let body = try await client.send(.POST, "/api/v1/iam/users/\(ClientOptions.path(name))/tokens")
            print((try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])?["token"] as? String ?? "")
        }
    }

    struct Attach: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Attach a policy to a user.")
        @OptionGroup var client: ClientOptions
        @Argument var name: String
        @Argument var policy: String
        func run() async throws {
            _ = try await client.send(.PUT, "/api/v1/iam/users/\(ClientOptions.path(name))/policies/\(ClientOptions.path(policy))")
            print("attached \(policy) to user \(name)")
        }
    }
}

/// `plumb groups …`.
struct GroupsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "groups", abstract: "Groups of users: list, create, add members, attach policies.",
        subcommands: [List.self, Create.self, AddMember.self, Attach.self])

    struct List: AsyncParsableCommand {
        @OptionGroup var client: ClientOptions
        func run() async throws {
            let body = try await client.send(.GET, "/api/v1/iam/groups")
            if client.output == .json { return client.printJSON(body) }
            let groups = (try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])?["groups"] as? [[String: Any]] ?? []
            print(table(["GROUP", "POLICIES", "MEMBERS"], groups.map {
                [$0["name"] as? String ?? "", ($0["policies"] as? [String] ?? []).joined(separator: ","), ($0["members"] as? [String] ?? []).joined(separator: ",")]
            }))
        }
    }

    struct Create: AsyncParsableCommand {
        @OptionGroup var client: ClientOptions
        @Argument var name: String
        func run() async throws {
            _ = try await client.send(.POST, "/api/v1/iam/groups", ["name": name])
            print("created group \(name)")
        }
    }

    struct AddMember: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "add-member")
        @OptionGroup var client: ClientOptions
        @Argument var group: String
        @Argument var user: String
        func run() async throws {
            _ = try await client.send(.PUT, "/api/v1/iam/groups/\(ClientOptions.path(group))/members/\(ClientOptions.path(user))")
            print("added \(user) to \(group)")
        }
    }

    struct Attach: AsyncParsableCommand {
        @OptionGroup var client: ClientOptions
        @Argument var group: String
        @Argument var policy: String
        func run() async throws {
            _ = try await client.send(.PUT, "/api/v1/iam/groups/\(ClientOptions.path(group))/policies/\(ClientOptions.path(policy))")
            print("attached \(policy) to group \(group)")
        }
    }
}

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
            let policies = (try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])?["policies"] as? [[String: Any]] ?? []
            for p in policies { print(p["name"] as? String ?? "") }
        }
    }

    struct Get: AsyncParsableCommand {
        @OptionGroup var client: ClientOptions
        @Argument var name: String
        func run() async throws { client.printJSON(try await client.send(.GET, "/api/v1/iam/policies/\(ClientOptions.path(name))")) }
    }

    struct Put: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create or replace a policy from a JSON file ({\"Version\": \"2012-10-17\", \"Statement\": [...]}).")
        @OptionGroup var client: ClientOptions
        @Argument var name: String
        @Argument(help: "The policy document (JSON file).") var file: String
        func run() async throws {
            guard let data = FileManager.default.contents(atPath: file) else { throw ValidationError("cannot read \(file)") }
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
        static let configuration = CommandConfiguration(abstract: "Would USER be allowed ACTION on RESOURCE? Prints the decision and the deciding statement.")
        @OptionGroup var client: ClientOptions
        @Argument var user: String
        @Argument(help: "e.g. alarms:PutAlarm") var action: String
        @Argument(help: "e.g. alarm/sensors-no-data") var resource: String
        func run() async throws {
            let body = try await client.send(.POST, "/api/v1/iam/simulate", ["user": user, "action": action, "resource": resource])
            if client.output == .json { return client.printJSON(body) }
            let d = (try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any]) ?? [:]
            print(d["explanation"] as? String ?? "")
            if d["allowed"] as? Bool != true { throw ExitCode(3) }
        }
    }
}

/// `plumb login`: keeps a user's API token for the CLI (`~/.config/plumb/token`, mode 0600) after checking it.
struct LoginCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "login", abstract: "Save an API token (from `plumb users token NAME`) for the CLI, after checking it with the server.")
    @OptionGroup var client: ClientOptions
    @Option(help: "The token (default: read from standard input).") var apiToken: String?

    static var path: String { (ProcessInfo.processInfo.environment["HOME"] ?? ".") + "/.config/plumb/token" }

    func run() async throws {
        let token = apiToken ?? readLine(strippingNewline: true) ?? ""
        guard token.hasPrefix("plb_") else { throw ValidationError("an API token starts with plb_") }
        var checking = client
        checking.token = token
        _ = try await checking.request(.GET, "/api/v1/iam/users")
        try FileManager.default.createDirectory(atPath: (Self.path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: Self.path, contents: Data((token + "\n").utf8), attributes: [.posixPermissions: 0o600])
        print("logged in; the token is in \(Self.path)")
    }
}
