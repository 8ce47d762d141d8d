import ArgumentParser
import PlumbAPI

/// `plumb iam …`: the IAM commands under one name (`users`, `groups` and `policies` are also top-level).
struct IAMCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "iam", abstract: "Platform users, groups, policies and AWS access keys.",
        subcommands: [UsersCommand.self, GroupsCommand.self, PoliciesCommand.self, AccessKeysCommand.self])
}

/// `plumb iam access-keys …`: the AWS access keys an IAM user signs AWS SDK and aws CLI requests with.
struct AccessKeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "access-keys",
        abstract: "AWS access keys of a user, for the AWS SDKs and the aws CLI: create, list, delete.",
        discussion: """
            A key signs requests to Plumb's AWS API (SigV4), which the user's policies authorize as they do the \
            user's API token: cloudwatch:PutMetricData is metrics:PutMetricData on metric/*. Two keys a user at \
            most; disabling the user deletes them. The secret is shown once, by `create`.

            Examples:
              plumb iam access-keys create alice >> ~/.aws/credentials
              plumb iam access-keys list alice
              plumb iam access-keys delete alice PKIA…
            """,
        subcommands: [Create.self, List.self, Delete.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a key; prints it as a shared-credentials profile named after the user (the secret once).")
        @OptionGroup var client: ClientOptions
        @Argument(help: "The user.") var user: String
        @Option(help: "The profile name to print (default: the user's name).") var profile: String?
        func run() async throws {
            let body = try await client.send(.POST, "/api/v1/iam/users/\(ClientOptions.path(user))/access-keys")
            if client.output == .json { return client.printJSON(body) }
            let key = try client.decode(AWSAccessKey.self, body)
            print("[\(profile ?? user)]")
            print("aws_access_key_id = \(key.accessKeyId)")
            print("aws_secret_access_key = \(key.secretAccessKey ?? "")")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A user's keys (without their secrets).")
        @OptionGroup var client: ClientOptions
        @Argument(help: "The user.") var user: String
        func run() async throws {
            let body = try await client.send(.GET, "/api/v1/iam/users/\(ClientOptions.path(user))/access-keys")
            if client.output == .json { return client.printJSON(body) }
            let keys = try client.decode(AWSAccessKeyList.self, body).accessKeys
            guard !keys.isEmpty else { return print("\(user) has no access keys") }
            print(table(["ACCESS KEY ID", "CREATED"], keys.map { [$0.accessKeyId, $0.created] }))
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete a key; requests it signs are refused from then on.")
        @OptionGroup var client: ClientOptions
        @Argument(help: "The user.") var user: String
        @Argument(help: "The access key id.") var id: String
        func run() async throws {
            _ = try await client.send(
                .DELETE, "/api/v1/iam/users/\(ClientOptions.path(user))/access-keys/\(ClientOptions.path(id))")
            print("deleted access key \(id) of \(user)")
        }
    }
}
