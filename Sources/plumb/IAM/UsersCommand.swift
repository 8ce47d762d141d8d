import ArgumentParser
import PlumbAPI

/// `plumb users …`: platform users and their API tokens.
struct UsersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "users", abstract: "Platform API users: list, create, disable, issue API tokens, attach policies.",
        subcommands: [List.self, Create.self, Disable.self, Token.self, Attach.self, SetPassword.self, ResetMFA.self])

    struct SetPassword: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set-password",
            abstract: "Set a user's sign-in password (asked for without echo, or read from standard input).")
        @OptionGroup var client: ClientOptions
        @Argument var name: String
        func run() async throws {
            let password = try Secret.read("New password for \(name): ")
            _ = try await client.send(
                .PUT, "/api/v1/iam/users/\(ClientOptions.path(name))/password",
                json: PasswordRequest(password: password))
            print("password set for \(name); they sign in with `plumb login --user \(name)`")
        }
    }

    struct ResetMFA: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "reset-mfa",
            abstract: "Remove a user's TOTP device (a lost phone) and the tokens given with it.")
        @OptionGroup var client: ClientOptions
        @Argument var name: String
        func run() async throws {
            _ = try await client.send(.DELETE, "/api/v1/iam/users/\(ClientOptions.path(name))/mfa")
            print("removed the TOTP device of \(name); they enrol again with `plumb mfa enrol`")
        }
    }

    struct List: AsyncParsableCommand {
        @OptionGroup var client: ClientOptions
        func run() async throws {
            let body = try await client.send(.GET, "/api/v1/iam/users")
            if client.output == .json { return client.printJSON(body) }
            let users = try client.decode(UserList.self, body).users
            print(
                table(
                    ["USER", "DISABLED", "GROUPS", "POLICIES"],
                    users.map {
                        [
                            $0.name, $0.disabled ? "yes" : "no", $0.groups.joined(separator: ","),
                            $0.policies.joined(separator: ","),
                        ]
                    }))
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a user, optionally in groups (e.g. --group monitoring-writer).")
        @OptionGroup var client: ClientOptions
        @Argument var name: String
        @Option(help: "A group to add the user to (repeatable).") var group: [String] = []
        func run() async throws {
            _ = try await client.send(.POST, "/api/v1/iam/users", json: EntityName(name: name))
            for g in group {
                _ = try await client.send(
                    .PUT, "/api/v1/iam/groups/\(ClientOptions.path(g))/members/\(ClientOptions.path(name))")
            }
            print("created user \(name)" + (group.isEmpty ? "" : " in \(group.joined(separator: ", "))"))
        }
    }

    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Disable a user; their API tokens stop working at once.")
        @OptionGroup var client: ClientOptions
        @Argument var name: String
        func run() async throws {
            _ = try await client.send(.POST, "/api/v1/iam/users/\(ClientOptions.path(name))/disable")
            print("disabled \(name)")
        }
    }

    struct Token: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Issue an API token for a user (shown once; give it to `plumb login`).")
        @OptionGroup var client: ClientOptions
        @Argument var name: String
        func run() async throws {
            let body = try await client.send(.POST, "/api/v1/iam/users/\(ClientOptions.path(name))/tokens")
            print(try client.decode(AccessToken.self, body).token)
        }
    }

    struct Attach: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Attach a policy to a user.")
        @OptionGroup var client: ClientOptions
        @Argument var name: String
        @Argument var policy: String
        func run() async throws {
            _ = try await client.send(
                .PUT, "/api/v1/iam/users/\(ClientOptions.path(name))/policies/\(ClientOptions.path(policy))")
            print("attached \(policy) to user \(name)")
        }
    }
}
