import ArgumentParser
import Foundation
import NIOHTTP1
import PlumbAuth

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
        subcommands: [List.self, Create.self, Disable.self, Token.self, Attach.self, SetPassword.self, ResetMFA.self])

    struct SetPassword: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set-password", abstract: "Set a user's sign-in password (asked for without echo, or read from standard input).")
        @OptionGroup var client: ClientOptions
        @Argument var name: String
        func run() async throws {
            let password = try Secret.read("New password for \(name): ")
            _ = try await client.send(.PUT, "/api/v1/iam/users/\(ClientOptions.path(name))/password", ["password": password])
            print("password set for \(name); they sign in with `plumb login --user \(name)`")
        }
    }

    struct ResetMFA: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "reset-mfa", abstract: "Remove a user's TOTP device (a lost phone) and the tokens given with it.")
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
        commandName: "login",
        abstract: "Sign in as a platform user and save the API token for the CLI.",
        discussion: """
            With --user, signs in with the user's password (asked for without echo, or read from standard input) \
            and, once they have a TOTP device (`plumb mfa enrol`), the current code (--code, or asked for). The \
            token lives for iam.session_hours (12 by default). Without --user, saves an API token an admin made \
            (`plumb users token NAME`), read from --api-token or standard input, after checking it with the server.
            """)
    @OptionGroup var client: ClientOptions
    @Option(help: "The user to sign in as.") var user: String?
    @Option(help: "The TOTP code (asked for when the user has a device and it is not given).") var code: String?
    @Option(help: "An API token to save (default: read from standard input).") var apiToken: String?

    static var path: String { (ProcessInfo.processInfo.environment["HOME"] ?? ".") + "/.config/plumb/token" }

    func run() async throws {
        let token: String
        var summary: String
        if let user {
            let password = try Secret.read("Password for \(user): ")
            var object: [String: Any] = ["user": user, "password": password]
            if let code { object["code"] = code }
            var answer: [UInt8]
            do {
                answer = try await client.request(.POST, "/api/v1/iam/login", body: Array(try JSONSerialization.data(withJSONObject: object)), authenticated: false).body
            } catch let error as CLIError where error.code == "MFARequired" && code == nil {
                object["code"] = try Secret.read("TOTP code: ", echo: true)
                answer = try await client.request(.POST, "/api/v1/iam/login", body: Array(try JSONSerialization.data(withJSONObject: object)), authenticated: false).body
            }
            let session = (try? JSONSerialization.jsonObject(with: Data(answer)) as? [String: Any]) ?? [:]
            guard let t = session["token"] as? String else { throw CLIError("the server gave no token: \(String(decoding: answer, as: UTF8.self))") }
            token = t
            summary = "logged in as \(user) until \(session["expires_at"] as? String ?? "?")" + ((session["mfa"] as? Bool ?? false) ? " (with MFA)" : "")
        } else {
            token = apiToken ?? readLine(strippingNewline: true) ?? ""
            guard token.hasPrefix("plb_") else { throw ValidationError("an API token starts with plb_") }
            summary = "logged in"
        }
        var checking = client
        checking.token = token
        let me = (try? JSONSerialization.jsonObject(with: Data(try await checking.send(.GET, "/api/v1/iam/whoami"))) as? [String: Any]) ?? [:]
        if user == nil, let name = me["user"] as? String { summary += " as \(name)" }
        if (me["mfa_required"] as? Bool ?? false) && !(me["mfa"] as? Bool ?? false) {
            summary += "; MFA is required for you: this token only reaches `plumb mfa enrol`, then log in again with a code"
        }
        try FileManager.default.createDirectory(atPath: (Self.path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: Self.path, contents: Data((token + "\n").utf8), attributes: [.posixPermissions: 0o600])
        print("\(summary); the token is in \(Self.path)")
    }
}

/// `plumb passwd`: the signed-in user changes their own password.
struct PasswdCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "passwd",
        abstract: "Change your own password (asked for without echo, or two lines of standard input: current, new).",
        discussion: "Every token from an earlier sign-in stops working; sign in again with `plumb login --user NAME`.")
    @OptionGroup var client: ClientOptions
    func run() async throws {
        let current = try Secret.read("Current password: ")
        let new = try Secret.read("New password: ")
        if isatty(STDIN_FILENO) != 0, try Secret.read("New password again: ") != new { throw ValidationError("the new passwords differ") }
        _ = try await client.send(.POST, "/api/v1/iam/password", ["current_password": current, "new_password": new])
        print("password changed; sign in again with `plumb login --user NAME`")
    }
}

/// `plumb mfa …`: the signed-in user's own TOTP device.
struct MFACommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mfa", abstract: "Your TOTP device: enrol (with a QR code in the terminal), confirm, status.",
        subcommands: [Enrol.self, Confirm.self, Status.self])

    struct Enrol: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Enrol a TOTP device: shows the otpauth:// URI as a QR code to scan, then confirms with a first code.",
            discussion: """
                Scan the code with an authenticator app (or type the secret), then give the code it shows \
                (--code, or asked for). Until confirmed, sign-in does not ask for a code.
                """)
        @OptionGroup var client: ClientOptions
        @Option(help: "The first code, to confirm at once (default: asked for).") var code: String?
        @Flag(help: "Do not draw the QR code (print the URI and the secret only).") var noQR = false
        @Flag(help: "Draw the QR code for a light terminal background when colours are off.") var light = false
        @Flag(help: "Enrol without confirming (confirm later with `plumb mfa confirm CODE`).") var noConfirm = false

        func run() async throws {
            let answer = (try? JSONSerialization.jsonObject(with: Data(try await client.send(.POST, "/api/v1/iam/mfa/enrol"))) as? [String: Any]) ?? [:]
            guard let uri = answer["otpauth_uri"] as? String, let secret = answer["secret"] as? String else {
                throw CLIError("the server gave no otpauth URI")
            }
            if client.output == .json {
                print(String(decoding: try JSONSerialization.data(withJSONObject: answer, options: [.sortedKeys, .withoutEscapingSlashes]), as: UTF8.self))
            } else {
                if !noQR {
                    let colours = isatty(STDOUT_FILENO) != 0 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil
                    print(try QRCode(uri, correction: .medium).terminalText(colours: colours, lightOnDark: !light, unicode: Terminal.showsUnicode), terminator: "")
                }
                print("URI:    \(uri)\nSecret: \(secret)")
            }
            guard !noConfirm else { return }
            let first = try code ?? Secret.read("Code from the app: ", echo: true)
            _ = try await client.send(.POST, "/api/v1/iam/mfa/confirm", ["code": first])
            print("TOTP device enabled; from now on `plumb login --user NAME` asks for a code")
        }
    }

    struct Confirm: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Confirm an enrolled TOTP device with a code from it.")
        @OptionGroup var client: ClientOptions
        @Argument var code: String
        func run() async throws {
            _ = try await client.send(.POST, "/api/v1/iam/mfa/confirm", ["code": code])
            print("TOTP device enabled")
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Who the saved token is, and its MFA state.")
        @OptionGroup var client: ClientOptions
        func run() async throws {
            let body = try await client.send(.GET, "/api/v1/iam/whoami")
            if client.output == .json { return client.printJSON(body) }
            let me = (try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any]) ?? [:]
            func yes(_ key: String) -> String { (me[key] as? Bool ?? false) ? "yes" : "no" }
            print("user \(me["user"] as? String ?? "?") (groups: \((me["groups"] as? [String] ?? []).joined(separator: ", ")))")
            print("TOTP device: \(yes("mfa_enabled")); this token given with a code: \(yes("mfa")); MFA required: \(yes("mfa_required"))")
            if let expires = me["expires_at"] as? String { print("token expires \(expires)") }
        }
    }
}

/// Reads a secret: without echo from a terminal, else a line of standard input.
enum Secret {
    static func read(_ prompt: String, echo: Bool = false) throws -> String {
        let terminal = isatty(STDIN_FILENO) != 0
        if terminal {
            FileHandle.standardError.write(Data(prompt.utf8))
        }
        var saved = termios()
        let hide = terminal && !echo && tcgetattr(STDIN_FILENO, &saved) == 0
        if hide {
            var quiet = saved
            quiet.c_lflag &= ~tcflag_t(ECHO)
            tcsetattr(STDIN_FILENO, TCSANOW, &quiet)
        }
        defer {
            if hide {
                tcsetattr(STDIN_FILENO, TCSANOW, &saved)
                FileHandle.standardError.write(Data("\n".utf8))
            }
        }
        guard let line = readLine(strippingNewline: true), !line.isEmpty else { throw ValidationError("nothing was entered") }
        return line
    }
}
