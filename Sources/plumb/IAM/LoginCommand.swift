import ArgumentParser
import Foundation
import PlumbAPI

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
            let session = try await signIn(user)
            token = session.token
            summary = "logged in as \(user) until \(session.expiresAt)" + (session.mfa ? " (with MFA)" : "")
        } else {
            token = apiToken ?? readLine(strippingNewline: true) ?? ""
            guard token.hasPrefix("plb_") else { throw ValidationError("an API token starts with plb_") }
            summary = "logged in"
        }
        var checking = client
        checking.token = token
        let me = try checking.decode(WhoAmI.self, try await checking.send(.GET, "/api/v1/iam/whoami"))
        if user == nil { summary += " as \(me.user)" }
        if me.mfaRequired && !me.mfa {
            summary +=
                "; MFA is required for you: this token only reaches `plumb mfa enrol`, then log in again with a code"
        }
        try FileManager.default.createDirectory(
            atPath: (Self.path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        FileManager.default.createFile(
            atPath: Self.path, contents: Data((token + "\n").utf8), attributes: [.posixPermissions: 0o600])
        print("\(summary); the token is in \(Self.path)")
    }

    /// Signs in with the password, and the TOTP code when the server asks for one that was not given.
    func signIn(_ user: String) async throws -> LoginResponse {
        var request = LoginRequest(user: user, password: try Secret.read("Password for \(user): "), code: code)
        var answer: [UInt8]
        do {
            answer = try await client.request(
                .POST, "/api/v1/iam/login", body: Array(try JSONEncoder().encode(request)), authenticated: false
            ).body
        } catch let error as CLIError where error.code == "MFARequired" && code == nil {
            request.code = try Secret.read("TOTP code: ", echo: true)
            answer = try await client.request(
                .POST, "/api/v1/iam/login", body: Array(try JSONEncoder().encode(request)), authenticated: false
            ).body
        }
        guard let session = try? JSONDecoder().decode(LoginResponse.self, from: Data(answer)) else {
            throw CLIError("the server gave no token: \(String(decoding: answer, as: UTF8.self))")
        }
        return session
    }
}
