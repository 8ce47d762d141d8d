import Foundation
import PlumbTesting
import Testing

/// Platform users signing in with a password and a TOTP device, with `iam.require_mfa` naming a group: the CLI's
/// `plumb login --user`, `plumb mfa enrol` (QR code) and `plumb mfa confirm`, pyotp as the authenticator app.
@Suite("IAM sign-in and MFA", .serialized)
struct IAMLoginTests {
    static func code(_ body: [UInt8]) -> String { (json(body)["error"] as? [String: Any])?["code"] as? String ?? "" }

    static func pyotp(_ secret: String, offset: Int) async throws -> String {
        try await CLI.runProgram(
            "/usr/bin/env",
            ["python3", "-c", "import pyotp, time; print(pyotp.TOTP('\(secret)').at(time.time() + \(offset)))"]
        )
        .output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test("a member of a group that requires MFA reaches nothing but enrolment until signing in with a code")
    func requireMFA() async throws {
        let root = TemporaryDirectory("plumb-iam-login")
        defer { root.remove() }
        try "iam:\n  require_mfa: [monitoring-writer]\n  scrypt_n: 1024\n  lockout_after: 3\n".write(
            toFile: root.path + "/plumb.yaml", atomically: true, encoding: .utf8)
        let server = try ServerProcess(
            dataDirectory: root.path + "/data", extraArguments: ["--config", root.path + "/plumb.yaml"])
        defer { server.kill(signal: SIGKILL) }
        try await server.waitReady()
        let (admin, base) = (server.token, server.baseURL + "/api/v1")
        let password = "Cobalt-Lantern-92-Fjord"
        var (status, body) = try await HTTP.request(
            "POST", base + "/iam/users", body: Array(#"{"name": "mona"}"#.utf8), token: admin)
        #expect(status == 201)
        (status, _) = try await HTTP.request("PUT", base + "/iam/groups/monitoring-writer/members/mona", token: admin)
        #expect(status == 204)
        (status, body) = try await HTTP.request(
            "PUT", base + "/iam/users/mona/password", body: Array(#"{"password": "password1234"}"#.utf8), token: admin)
        #expect(status == 400 && Self.code(body) == "WeakPassword", "\(String(decoding: body, as: UTF8.self))")
        let setPassword = try await Subprocess.run(
            Checkout.plumbBinary, ["users", "set-password", "mona", "--server", server.baseURL, "--token", admin],
            input: Data((password + "\n").utf8))
        #expect(setPassword.status == 0, "\(setPassword.text)")

        // Wrong password and unknown user: the same answer.
        for (user, pw) in [("mona", "Wrong-Password-000"), ("nobody", password)] {
            (status, body) = try await HTTP.request(
                "POST", base + "/iam/login", body: Array(#"{"user": "\#(user)", "password": "\#(pw)"}"#.utf8))
            #expect(
                status == 401 && Self.code(body) == "InvalidCredentials",
                "\(user): \(String(decoding: body, as: UTF8.self))")
        }

        // `plumb login --user` without a device: a token that reaches only enrolment.
        let home = root.path + "/home"
        let login = try await Subprocess.run(
            Checkout.plumbBinary, ["login", "--user", "mona", "--server", server.baseURL],
            input: Data((password + "\n").utf8), environment: ["HOME": home])
        #expect(
            login.status == 0 && login.text.contains("logged in as mona") && login.text.contains("MFA is required"),
            "\(login.text)")
        let session = try String(contentsOfFile: home + "/.config/plumb/token", encoding: .utf8).trimmingCharacters(
            in: .whitespacesAndNewlines)
        (status, body) = try await HTTP.request("GET", base + "/alarms", token: session)
        #expect(status == 403 && Self.code(body) == "MFARequired", "\(String(decoding: body, as: UTF8.self))")
        // So does a token an admin made for her.
        (status, body) = try await HTTP.request("POST", base + "/iam/users/mona/tokens", token: admin)
        let minted = try #require(json(body)["token"] as? String)
        (status, body) = try await HTTP.request("GET", base + "/alarms", token: minted)
        #expect(status == 403 && Self.code(body) == "MFARequired")

        // `plumb mfa enrol`: the QR code and the secret; pyotp plays the app; `plumb mfa confirm`. The locale is named:
        // without UTF-8 the code is drawn in ASCII (`QRCodeTests`), and CI runs with no LANG.
        let enrol = try await Subprocess.run(
            Checkout.plumbBinary, ["mfa", "enrol", "--no-confirm", "--server", server.baseURL],
            environment: [
                "HOME": home, "NO_COLOR": "1", "LANG": "C.UTF-8", "LC_ALL": "", "LC_CTYPE": "", "TERM": "xterm",
            ])
        #expect(enrol.status == 0, "\(enrol.text)")
        #expect(
            enrol.text.contains("█") && enrol.text.contains("▀")
                && enrol.text.contains("otpauth://totp/Plumb:mona?secret="), "\(enrol.text)")
        let secret = try #require(
            enrol.text.split(separator: "\n").first { $0.hasPrefix("Secret: ") }.map { String($0.dropFirst(8)) })
        var confirm = try await CLI.run(["mfa", "confirm", "000000", "--server", server.baseURL, "--token", session])
        #expect(confirm.status != 0 && confirm.output.contains("InvalidMFACode"), "\(confirm.output)")
        confirm = try await CLI.run([
            "mfa", "confirm", try await Self.pyotp(secret, offset: 0), "--server", server.baseURL, "--token", session,
        ])
        #expect(confirm.status == 0, "\(confirm.output)")

        // With the device: a password alone is refused; the next code gives a token that works; replaying it fails.
        (status, body) = try await HTTP.request(
            "POST", base + "/iam/login", body: Array(#"{"user": "mona", "password": "\#(password)"}"#.utf8))
        #expect(status == 401 && Self.code(body) == "MFARequired")
        let next = try await Self.pyotp(secret, offset: 30)
        (status, body) = try await HTTP.request(
            "POST", base + "/iam/login",
            body: Array(#"{"user": "mona", "password": "\#(password)", "code": "\#(next)"}"#.utf8))
        #expect(status == 201 && json(body)["mfa"] as? Bool == true, "\(String(decoding: body, as: UTF8.self))")
        let strong = try #require(json(body)["token"] as? String)
        (status, _) = try await HTTP.request("GET", base + "/alarms", token: strong)
        #expect(status == 200)
        (status, _) = try await HTTP.request(
            "PUT", base + "/alarms/mona-test",
            body: Array(
                #"{"namespace": "T", "metric": "m", "statistic": "Sum", "period": 60, "evaluation_periods": 1, "comparison": "GreaterThanThreshold", "threshold": 1}"#
                    .utf8), token: strong)
        #expect(status == 200 || status == 201, "monitoring-writer may put alarms")
        (status, body) = try await HTTP.request(
            "POST", base + "/iam/login",
            body: Array(#"{"user": "mona", "password": "\#(password)", "code": "\#(next)"}"#.utf8))
        #expect(status == 401 && Self.code(body) == "InvalidMFACode", "a code works once")
        (status, body) = try await HTTP.request("GET", base + "/iam/whoami", token: strong)
        #expect(
            json(body)["mfa"] as? Bool == true && json(body)["mfa_enabled"] as? Bool == true
                && json(body)["expires_at"] is String)

        // Lockout: three failures, then even the right password and code wait.
        for _ in 0..<3 {
            _ = try await HTTP.request(
                "POST", base + "/iam/login", body: Array(#"{"user": "mona", "password": "Wrong-Password-000"}"#.utf8))
        }
        (status, body) = try await HTTP.request(
            "POST", base + "/iam/login",
            body: Array(
                #"{"user": "mona", "password": "\#(password)", "code": "\#(try await Self.pyotp(secret, offset: 0))"}"#
                    .utf8))
        #expect(status == 429 && Self.code(body) == "UserLocked", "\(String(decoding: body, as: UTF8.self))")

        // The admin resets the device: the MFA token goes with it.
        (status, _) = try await HTTP.request("DELETE", base + "/iam/users/mona/mfa", token: admin)
        #expect(status == 204)
        (status, _) = try await HTTP.request("GET", base + "/alarms", token: strong)
        #expect(status == 401)

        // A token without a code cannot change an MFA-required user's password.
        (status, body) = try await HTTP.request(
            "POST", base + "/iam/password",
            body: Array(#"{"current_password": "\#(password)", "new_password": "Granite-Harbour-58-Kestrel"}"#.utf8),
            token: session)
        #expect(status == 403 && Self.code(body) == "MFARequired")

        // `plumb passwd` (rita, no MFA required): a wrong current password is refused; then the new one works, the
        // old one does not, and the token from her earlier sign-in stops working.
        let newPassword = "Granite-Harbour-58-Kestrel"
        (status, _) = try await HTTP.request(
            "POST", base + "/iam/users", body: Array(#"{"name": "rita"}"#.utf8), token: admin)
        (status, _) = try await HTTP.request(
            "PUT", base + "/iam/users/rita/password", body: Array(#"{"password": "\#(password)"}"#.utf8), token: admin)
        #expect(status == 204)
        (status, body) = try await HTTP.request(
            "POST", base + "/iam/login", body: Array(#"{"user": "rita", "password": "\#(password)"}"#.utf8))
        let rita = try #require(json(body)["token"] as? String)
        let wrongCurrent = try await Subprocess.run(
            Checkout.plumbBinary, ["passwd", "--server", server.baseURL, "--token", rita],
            input: Data("Not-The-Password-1\n\(newPassword)\n".utf8))
        #expect(wrongCurrent.status != 0 && wrongCurrent.text.contains("InvalidCredentials"), "\(wrongCurrent.text)")
        let weak = try await Subprocess.run(
            Checkout.plumbBinary, ["passwd", "--server", server.baseURL, "--token", rita],
            input: Data("\(password)\nshort\n".utf8))
        #expect(weak.status != 0 && weak.text.contains("WeakPassword"), "\(weak.text)")
        let passwd = try await Subprocess.run(
            Checkout.plumbBinary, ["passwd", "--server", server.baseURL, "--token", rita],
            input: Data("\(password)\n\(newPassword)\n".utf8))
        #expect(passwd.status == 0, "\(passwd.text)")
        (status, _) = try await HTTP.request("GET", base + "/iam/whoami", token: rita)
        #expect(status == 401, "tokens from earlier sign-ins stop working")
        (status, body) = try await HTTP.request(
            "POST", base + "/iam/login", body: Array(#"{"user": "rita", "password": "\#(password)"}"#.utf8))
        #expect(status == 401 && Self.code(body) == "InvalidCredentials")
        (status, body) = try await HTTP.request(
            "POST", base + "/iam/login", body: Array(#"{"user": "rita", "password": "\#(newPassword)"}"#.utf8))
        #expect(status == 201, "\(String(decoding: body, as: UTF8.self))")

        // Audited, and no password in any log.
        (status, body) = try await HTTP.request("GET", base + "/logs/%2Fplumb%2Faudit?limit=1000", token: admin)
        let text = String(decoding: body, as: UTF8.self)
        #expect(text.contains("iam:Login") && text.contains("user:mona"))
        #expect(
            !text.contains(password) && !server.log.contains(password) && !text.contains(newPassword)
                && !server.log.contains(newPassword))
    }
}
