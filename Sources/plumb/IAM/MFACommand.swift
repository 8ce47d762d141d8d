import ArgumentParser
import Foundation
import PlumbAPI
import PlumbAuth

/// `plumb mfa …`: the signed-in user's own TOTP device.
struct MFACommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mfa", abstract: "Your TOTP device: enrol (with a QR code in the terminal), confirm, status.",
        subcommands: [Enrol.self, Confirm.self, Status.self])

    struct Enrol: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Enrol a TOTP device: shows the otpauth:// URI as a QR code to scan, then confirms with a first code.",
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
            let body = try await client.send(.POST, "/api/v1/iam/mfa/enrol")
            guard let enrolment = try? JSONDecoder().decode(MFAEnrolment.self, from: Data(body)) else {
                throw CLIError("the server gave no otpauth URI")
            }
            if client.output == .json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
                print(String(decoding: try encoder.encode(enrolment), as: UTF8.self))
            } else {
                if !noQR {
                    let colours = isatty(STDOUT_FILENO) != 0 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil
                    let qr = try QRCode(enrolment.otpauthURI, correction: .medium)
                    print(
                        qr.terminalText(colours: colours, lightOnDark: !light, unicode: Terminal.showsUnicode),
                        terminator: "")
                }
                print("URI:    \(enrolment.otpauthURI)\nSecret: \(enrolment.secret)")
            }
            guard !noConfirm else { return }
            let first = try code ?? Secret.read("Code from the app: ", echo: true)
            _ = try await client.send(.POST, "/api/v1/iam/mfa/confirm", json: MFACodeRequest(code: first))
            print("TOTP device enabled; from now on `plumb login --user NAME` asks for a code")
        }
    }

    struct Confirm: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Confirm an enrolled TOTP device with a code from it.")
        @OptionGroup var client: ClientOptions
        @Argument var code: String
        func run() async throws {
            _ = try await client.send(.POST, "/api/v1/iam/mfa/confirm", json: MFACodeRequest(code: code))
            print("TOTP device enabled")
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Who the saved token is, and its MFA state.")
        @OptionGroup var client: ClientOptions
        func run() async throws {
            let body = try await client.send(.GET, "/api/v1/iam/whoami")
            if client.output == .json { return client.printJSON(body) }
            let me = try client.decode(WhoAmI.self, body)
            func yes(_ flag: Bool) -> String { flag ? "yes" : "no" }
            print("user \(me.user) (groups: \(me.groups.joined(separator: ", ")))")
            print(
                "TOTP device: \(yes(me.mfaEnabled)); this token given with a code: \(yes(me.mfa)); MFA required: \(yes(me.mfaRequired))"
            )
            if let expires = me.expiresAt { print("token expires \(expires)") }
        }
    }
}
