import ArgumentParser
import PlumbAPI

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
            let groups = try client.decode(GroupList.self, body).groups
            print(
                table(
                    ["GROUP", "POLICIES", "MEMBERS"],
                    groups.map {
                        [$0.name, $0.policies.joined(separator: ","), $0.members.joined(separator: ",")]
                    }))
        }
    }

    struct Create: AsyncParsableCommand {
        @OptionGroup var client: ClientOptions
        @Argument var name: String
        func run() async throws {
            _ = try await client.send(.POST, "/api/v1/iam/groups", json: EntityName(name: name))
            print("created group \(name)")
        }
    }

    struct AddMember: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "add-member")
        @OptionGroup var client: ClientOptions
        @Argument var group: String
        @Argument var user: String
        func run() async throws {
            _ = try await client.send(
                .PUT, "/api/v1/iam/groups/\(ClientOptions.path(group))/members/\(ClientOptions.path(user))")
            print("added \(user) to \(group)")
        }
    }

    struct Attach: AsyncParsableCommand {
        @OptionGroup var client: ClientOptions
        @Argument var group: String
        @Argument var policy: String
        func run() async throws {
            _ = try await client.send(
                .PUT, "/api/v1/iam/groups/\(ClientOptions.path(group))/policies/\(ClientOptions.path(policy))")
            print("attached \(policy) to group \(group)")
        }
    }
}
