import ArgumentParser
import Foundation
import PlumbAPI

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
        if isatty(STDIN_FILENO) != 0, try Secret.read("New password again: ") != new {
            throw ValidationError("the new passwords differ")
        }
        _ = try await client.send(
            .POST, "/api/v1/iam/password", json: PasswordChangeRequest(currentPassword: current, newPassword: new))
        print("password changed; sign in again with `plumb login --user NAME`")
    }
}
