import Foundation
import PlumbTesting
import Testing

/// The data directory on disk, with a real `plumb serve` restarted over it: owner-only permissions (a directory left
/// 0755 with 0644 files comes back 0700/0600), and webhook secrets and TOTP seeds nowhere in clear — not in a
/// database, not in a `-wal` file — while signing and TOTP sign-in still work after a restart; seeds and secrets an
/// older version stored in clear are sealed at the next start.
@Suite("Data at rest", .serialized)
struct DataAtRestTests {
    /// Every file and directory below `root` (the root too) with its permission bits.
    static func modes(_ root: String) -> [(path: String, directory: Bool, mode: mode_t)] {
        var out: [(String, Bool, mode_t)] = []
        func walk(_ path: String) {
            var info = stat()
            guard lstat(path, &info) == 0 else { return }
            let directory = info.st_mode & S_IFMT == S_IFDIR
            out.append((path, directory, info.st_mode & 0o777))
            if directory {
                for name in (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [] {
                    walk(path + "/" + name)
                }
            }
        }
        walk(root)
        return out
    }

    static func loosen(_ root: String) {
        for entry in modes(root) { chmod(entry.path, entry.directory ? 0o755 : 0o644) }
    }

    static func ownerOnly(_ root: String) -> [String] {
        modes(root).filter { $0.mode != ($0.directory ? 0o700 : 0o600) }.map {
            "\($0.path) \(String($0.mode, radix: 8))"
        }
    }

    static func stop(_ server: ServerProcess) async throws {
        server.process.signal(SIGTERM)
        #expect(try await server.waitExit(), "the server stops on SIGTERM")
    }

    @Test("a data directory left 0755 with 0644 files is 0700/0600 after a restart, every file including -wal and -shm")
    func permissions() async throws {
        let root = TemporaryDirectory("plumb-perms")
        defer { root.remove() }
        let data = root.path + "/data"
        var server = try ServerProcess(dataDirectory: data)
        try await server.waitReady()
        #expect(
            try await HTTP.request(
                "POST", server.baseURL + "/api/v1/topics", body: Array(#"{"name": "t"}"#.utf8), token: server.token
            ).0 == 201)
        // A fresh directory is owner-only from the start (umask 077, databases created 0600).
        #expect(Self.ownerOnly(data).isEmpty, "\(Self.ownerOnly(data))")
        try await Self.stop(server)

        Self.loosen(data)
        let loosened = Self.modes(data)
        #expect(loosened.count > 10 && loosened.allSatisfy { $0.mode == ($0.directory ? 0o755 : 0o644) })
        server = try ServerProcess(dataDirectory: data)
        defer { server.kill(signal: SIGKILL) }
        try await server.waitReady()
        #expect(
            server.log.contains("\(loosened.count) of \(loosened.count) files and directories tightened"),
            "\(server.log)")
        print("permissions: \(loosened.count) files and directories loosened to 0755/0644, all tightened at restart")
        let running = Self.modes(data)
        #expect(running.contains { $0.path.hasSuffix("-wal") } && running.contains { $0.path.hasSuffix("-shm") })
        #expect(Self.ownerOnly(data).isEmpty, "\(Self.ownerOnly(data))")
        try await Self.stop(server)
        #expect(Self.ownerOnly(data).isEmpty, "\(Self.ownerOnly(data))")
    }

    /// Files below `root` that hold any of `needles` (byte strings), with the needle's name: Python reads every file
    /// as bytes, as `grep -a` would.
    static func grep(_ root: String, _ needles: [String: [UInt8]]) async throws -> [String] {
        let script = """
            import json, os, sys
            root, needles = sys.argv[1], {k: bytes.fromhex(v) for k, v in json.loads(sys.argv[2]).items()}
            for d, _, files in os.walk(root):
                for f in files:
                    data = open(os.path.join(d, f), "rb").read()
                    for name, needle in needles.items():
                        if needle in data: print(name, os.path.relpath(os.path.join(d, f), root))
            """
        let hex = needles.mapValues { $0.map { String(format: "%02x", $0) }.joined() }
        let arguments = String(decoding: try JSONSerialization.data(withJSONObject: hex), as: UTF8.self)
        let outcome = try await CLI.runProgram("/usr/bin/env", ["python3", "-c", script, root, arguments])
        #expect(outcome.status == 0, "\(outcome.output)")
        return outcome.output.split(separator: "\n").map(String.init)
    }

    static func base32Decode(_ text: String) -> [UInt8] {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
        var bits = 0
        var value = 0
        var out: [UInt8] = []
        for c in text.uppercased() where c != "=" {
            guard let index = alphabet.firstIndex(of: c) else { continue }
            value = (value << 5) | index
            bits += 5
            if bits >= 8 {
                out.append(UInt8((value >> (bits - 8)) & 0xFF))
                bits -= 8
            }
        }
        return out
    }

    static func post(_ url: String, _ object: [String: Any], token: String? = nil) async throws -> (Int, [String: Any])
    {
        try await AccountsTests.post(url, object, token: token)
    }

    @Test(
        "webhook secrets and TOTP seeds are in no file of the data directory, -wal included; signing and TOTP work after restarts and after sealing old clear values"
    )
    func secretsAreSealed() async throws {
        let root = TemporaryDirectory("plumb-sealed")
        defer { root.remove() }
        let data = root.path + "/data"
        let webhookSecret = "whsec-" + UUID().uuidString
        let hookLog = root.path + "/hook.jsonl"
        let hook = try await PeerProcess(
            script: "webhook_receiver.py", arguments: ["--log", hookLog, "--secret", webhookSecret],
            logDirectory: root.path)
        defer { hook.stop() }
        try "iam: {scrypt_n: 1024}\nplugins:\n  accounts: {scrypt_n: 1024}\n".write(
            toFile: root.path + "/plumb.yaml", atomically: true, encoding: .utf8)
        var server = try ServerProcess(dataDirectory: data, extraArguments: ["--config", root.path + "/plumb.yaml"])
        defer { if server.process.isRunning { server.kill(signal: SIGKILL) } }
        try await server.waitReady()
        var (admin, api) = (server.token, server.baseURL + "/api/v1")

        // A webhook subscription with a secret, confirmed through the link it was sent (a signed request).
        var (status, answer) = try await Self.post(api + "/topics", ["name": "hooks"], token: admin)
        (status, answer) = try await Self.post(
            api + "/topics/hooks/subscriptions",
            ["protocol": "webhook", "endpoint": "http://127.0.0.1:\(hook.port)/hook", "secret": webhookSecret],
            token: admin)
        #expect(status == 201 && answer["signed"] as? Bool == true, "\(answer)")
        let subscription = try #require(answer["id"] as? String)
        try await waitUntil("the confirmation request", timeout: .seconds(20), every: .milliseconds(200)) {
            !PeerRecords.jsonLines(hookLog).isEmpty
        }
        let confirmation = try #require(PeerRecords.jsonLines(hookLog).first)
        #expect(confirmation["signature_valid"] as? Bool == true)
        let link = try #require((confirmation["body"] as? [String: Any])?["subscribeURL"] as? String)
        #expect(try await HTTP.request("GET", link).0 == 200)

        // A platform user with a TOTP device.
        let userPassword = "Cobalt-Lantern-92-Fjord"
        (status, _) = try await Self.post(api + "/iam/users", ["name": "mona"], token: admin)
        #expect(status == 201)
        let (setStatus, setBody) = try await HTTP.request(
            "PUT", api + "/iam/users/mona/password",
            body: Array(try JSONSerialization.data(withJSONObject: ["password": userPassword])), token: admin)
        #expect(setStatus < 300, "\(String(decoding: setBody, as: UTF8.self))")
        (status, answer) = try await Self.post(api + "/iam/login", ["user": "mona", "password": userPassword])
        let session = try #require(answer["token"] as? String, "\(answer)")
        (status, answer) = try await Self.post(api + "/iam/mfa/enrol", [:], token: session)
        let userSeed = try #require(answer["secret"] as? String, "\(answer)")
        // The previous step's code (the current one is then fresh for the logins below). A 30 s step can end
        // between computing the code and the server checking it on a loaded machine: then once more, anew.
        for _ in 0..<2 {
            (status, answer) = try await Self.post(
                api + "/iam/mfa/confirm", ["code": try await IAMLoginTests.pyotp(userSeed, offset: -30)],
                token: session)
            if status < 300 { break }
        }
        #expect(status < 300, "\(answer)")

        // An end user of the accounts plugin with a TOTP device.
        let accounts = server.baseURL + "/apps/accounts"
        let password = "Tangerine-Orbit-47-Quill"
        (status, _) = try await Self.post(accounts + "/signup", ["email": "ana@example.com", "password": password])
        #expect(status == 201)
        try await AccountsTests.answerQuestions(accounts, email: "ana@example.com", password: password)
        (status, answer) = try await Self.post(
            accounts + "/signin", ["email": "ana@example.com", "password": password])
        let access = try #require(answer["access_token"] as? String, "\(answer)")
        (status, answer) = try await Self.post(accounts + "/mfa/enrol", [:], token: access)
        let accountSeed = try #require(answer["secret"] as? String, "\(answer)")
        for _ in 0..<2 {
            (status, answer) = try await Self.post(
                accounts + "/mfa/confirm", ["code": try await IAMLoginTests.pyotp(accountSeed, offset: -30)],
                token: access)
            if status == 200 { break }
        }
        #expect(status == 200, "\(answer)")

        let needles: [String: [UInt8]] = [
            "webhook-secret": Array(webhookSecret.utf8),
            "user-seed-base32": Array(userSeed.utf8), "user-seed": Self.base32Decode(userSeed),
            "account-seed-base32": Array(accountSeed.utf8), "account-seed": Self.base32Decode(accountSeed),
        ]
        #expect(Self.base32Decode(userSeed).count >= 10 && Self.base32Decode(accountSeed).count >= 10)
        // While running (the -wal files hold the recent writes) and after a clean stop.
        let walFiles = Self.modes(data).filter { $0.path.hasSuffix("-wal") }.map(\.path)
        #expect(walFiles.count >= 3, "\(walFiles)")
        var found = try await Self.grep(data, needles)
        #expect(found.isEmpty, "in clear while running: \(found)")
        try await Self.stop(server)
        found = try await Self.grep(data, needles)
        #expect(found.isEmpty, "in clear after a stop: \(found)")

        // After a restart: the webhook is signed with the secret, both TOTP devices accept codes.
        func checkAfterRestart(offset: Int) async throws {
            let before = PeerRecords.jsonLines(hookLog).count
            (status, _) = try await Self.post(
                api + "/topics/hooks/publish", ["subject": "after restart", "message": "m\(offset)"], token: admin)
            #expect(status == 200)
            try await waitUntil("the notification", timeout: .seconds(20), every: .milliseconds(200)) {
                PeerRecords.jsonLines(hookLog).count > before
            }
            let delivered = try #require(PeerRecords.jsonLines(hookLog).last)
            #expect(
                delivered["message_type"] as? String == "Notification" && delivered["signature_valid"] as? Bool == true,
                "\(delivered)")
            (status, answer) = try await Self.post(
                api + "/iam/login",
                [
                    "user": "mona", "password": userPassword,
                    "code": try await IAMLoginTests.pyotp(userSeed, offset: offset),
                ])
            #expect(status == 201 && answer["mfa"] as? Bool == true, "\(answer)")
            (status, answer) = try await Self.post(
                server.baseURL + "/apps/accounts/signin",
                [
                    "email": "ana@example.com", "password": password,
                    "code": try await IAMLoginTests.pyotp(accountSeed, offset: offset),
                ])
            #expect(status == 200 && answer["access_token"] is String, "\(answer)")
        }
        server = try ServerProcess(dataDirectory: data, extraArguments: ["--config", root.path + "/plumb.yaml"])
        try await server.waitReady()
        (admin, api) = (server.token, server.baseURL + "/api/v1")
        try await checkAfterRestart(offset: 0)
        found = try await Self.grep(data, needles)
        #expect(found.isEmpty, "in clear after a restart: \(found)")
        try await Self.stop(server)

        // An older version's database: the same values in clear (the seed as a BLOB, as before). The next start seals
        // them, and the files hold no trace of them, freed cells and -wal included.
        let rewrite = """
            import sqlite3, sys, base64
            data, sub, secret, user_seed, account_seed = sys.argv[1:6]
            for path, sql, args in [
                ("notify.sqlite", "UPDATE subscriptions SET secret = ? WHERE id = ?", (secret, sub)),
                ("iam.sqlite", "UPDATE users SET mfa_secret = ? WHERE name = 'mona'", (base64.b32decode(user_seed),)),
                ("plugins/accounts/accounts.sqlite", "UPDATE accounts SET mfa_secret = ? WHERE email = 'ana@example.com'", (account_seed,)),
            ]:
                db = sqlite3.connect(data + "/" + path)
                assert db.execute(sql, args).rowcount == 1, path
                db.commit()
                db.close()
            """
        let written = try await CLI.runProgram(
            "/usr/bin/env", ["python3", "-c", rewrite, data, subscription, webhookSecret, userSeed, accountSeed])
        #expect(written.status == 0, "\(written.output)")
        found = try await Self.grep(data, needles)
        #expect(
            Set(found.map { String($0.split(separator: " ")[0]) }) == [
                "webhook-secret", "user-seed", "account-seed-base32",
            ], "the check sees clear values: \(found)")
        server = try ServerProcess(dataDirectory: data, extraArguments: ["--config", root.path + "/plumb.yaml"])
        try await server.waitReady()
        (admin, api) = (server.token, server.baseURL + "/api/v1")
        #expect(
            server.log.contains("sealed secrets that were stored in clear")
                && server.log.contains("sealed 1 TOTP secrets"), "\(server.log)")
        found = try await Self.grep(data, needles)
        #expect(found.isEmpty, "in clear after sealing: \(found)")
        try await checkAfterRestart(offset: 30)
        try await Self.stop(server)
        found = try await Self.grep(data, needles)
        #expect(found.isEmpty, "in clear at the end: \(found)")
    }
}
