import Crypto
import Foundation
import GRDB
import Logging
import PlumbAuth
import PlumbKit
import Synchronization

// Email confirmation and password reset.
extension AccountsPlugin {

    /// A signed link (a day) proving the address: `GET /apps/accounts/confirm?account=&expires=&signature=`.
    func sendConfirmation(account: String, email: String) async -> String {
        let expires = Int64(Date().timeIntervalSince1970) + 86_400
        let signature = host.sign("confirm|\(account)|\(expires)")
        let link = "\(issuer)/confirm?account=\(account)&expires=\(expires)&signature=\(signature)"
        do {
            try await host.sendEmail(
                to: email, subject: "Confirm your email address",
                text: """
                    Someone (we hope you) created an account with this address.

                    Confirm it within 24 hours: \(link)

                    If it was not you, ignore this message.
                    """)
            return "sent"
        } catch {
            logger.warning("confirmation email for account \(account) not sent: \(error)")
            return "not sent: \(error)"
        }
    }

    func confirmEmail(_ r: FunctionRequest) async throws -> FunctionResponse {
        let account = r.query["account"] ?? ""
        let signature = r.query["signature"] ?? ""
        guard let expires = Int64(r.query["expires"] ?? ""), expires > Int64(Date().timeIntervalSince1970),
            host.verify("confirm|\(account)|\(expires)", signature: signature)
        else {
            throw FunctionError(
                status: 403, code: "InvalidLink", message: "the link is wrong or expired; sign in to get a new one")
        }
        try await database.write { db in
            try db.execute(sql: "UPDATE accounts SET confirmed = 1 WHERE id = ?", arguments: [account])
        }
        await audit("email-confirmed", ["account": account])
        return FunctionResponse(
            status: 200, headers: ["content-type": "text/plain; charset=utf-8"],
            body: Array("Your email address is confirmed.\n".utf8))
    }

    /// Sends a reset link to a confirmed account's address. The answer is the same (and as fast) whether or not the
    /// account exists: the work happens after it.
    func startReset(_ r: FunctionRequest) async throws -> FunctionResponse {
        let source = r.headers["x-plumb-source"] ?? "unknown"
        guard throttle.allow("reset|" + source) else {
            throw FunctionError(
                status: 429, code: "TooManyRequests", message: "too many attempts from this address; wait a minute",
                retryAfter: 60)
        }
        // A refused address is a 400 naming the field: it says nothing about which accounts exist.
        let email: String
        switch EmailIdentity.normalise(try Self.body(r)["email"] as? String ?? "") {
        case .success(let normalised): email = normalised
        case .failure(let refusal): throw FunctionError.badRequest("'email' is not accepted: it \(refusal.message)")
        }
        let plugin = self
        Task {
            guard
                let account = try? await plugin.database.read({ db in
                    try String.fetchOne(
                        db, sql: "SELECT id FROM accounts WHERE email = ? AND confirmed = 1", arguments: [email])
                })
            else { return }
            // At most three live resets per account.
            let live =
                (try? await plugin.database.read { db in
                    try Int.fetchOne(
                        db, sql: "SELECT COUNT(*) FROM resets WHERE account = ? AND used = 0 AND expires_at > ?",
                        arguments: [account, Date().timeIntervalSince1970])
                }) ?? 0
            guard live < 3 else {
                return await plugin.audit("reset-throttled", ["account": account, "source": source])
            }
            var g = SystemRandomNumberGenerator()
            let token = "rs_" + Base64URL.encode((0..<32).map { _ in UInt8.random(in: 0...255, using: &g) })
            _ = try? await plugin.database.write { db in
                try db.execute(
                    sql: "INSERT INTO resets (hash, account, expires_at) VALUES (?, ?, ?)",
                    arguments: [Self.digest(token), account, Date().timeIntervalSince1970 + 1_800])
            }
            await plugin.audit("reset-started", ["account": account, "source": source])
            do {
                try await plugin.host.sendEmail(
                    to: email, subject: "Reset your password",
                    text: """
                        To choose a new password, send this code with the answers to your security questions to \(plugin.issuer)/reset/finish within 30 minutes:

                        \(token)

                        If you did not ask for this, ignore this message; your password is unchanged.
                        """)
            } catch {
                plugin.logger.warning("reset email for account \(account) not sent: \(error)")
            }
        }
        return Self.json(
            ["status": "if a confirmed account has this address, an email with a reset code is on its way"], status: 202
        )
    }

    /// The code from the email, the answers to at least two security questions (all must match), a new password:
    /// the password changes and every session is signed out.
    func finishReset(_ r: FunctionRequest) async throws -> FunctionResponse {
        let body = try Self.body(r)
        let token = body["token"] as? String ?? ""
        let now = Date().timeIntervalSince1970
        guard
            let row = try await database.read({ db in
                try Row.fetchOne(
                    db,
                    sql:
                        "SELECT r.account, r.tries, a.email FROM resets r JOIN accounts a ON a.id = r.account WHERE r.hash = ? AND r.used = 0 AND r.expires_at > ?",
                    arguments: [Self.digest(token), now])
            }), (row["tries"] as Int) < 3
        else {
            throw FunctionError(
                status: 403, code: "InvalidResetCode", message: "the reset code is wrong, used or expired; start again")
        }
        let account: String = row["account"]
        let email: String = row["email"]
        let given = body["answers"] as? [[String: Any]] ?? []
        let stored = try await database.read { db in
            Dictionary(
                try Row.fetchAll(db, sql: "SELECT question, hash FROM answers WHERE account = ?", arguments: [account])
                    .map { ($0["question"] as String, $0["hash"] as String) }, uniquingKeysWith: { a, _ in a })
        }
        var correct = given.count >= 2
        for a in given {
            // Every answer is checked (the same work whichever is wrong).
            let ok =
                stored[a["question"] as? String ?? ""].map {
                    Self.check(Self.normalisedAnswer(a["answer"] as? String ?? ""), against: $0)
                } ?? false
            correct = correct && ok
        }
        guard correct else {
            try await database.write { db in
                try db.execute(
                    sql: "UPDATE resets SET tries = tries + 1 WHERE hash = ?", arguments: [Self.digest(token)])
            }
            await audit("reset-failed", ["account": account])
            throw FunctionError(status: 403, code: "WrongAnswers", message: "the answers do not match")
        }
        let password = body["password"] as? String ?? ""
        if let problem = PasswordRules.problem(password, email: email) {
            throw FunctionError(status: 400, code: "WeakPassword", message: problem)
        }
        let hashed = try hash(password)
        try await database.write { db in
            try db.execute(
                sql: "UPDATE accounts SET password = ?, failures = 0, locked_until = 0 WHERE id = ?",
                arguments: [hashed, account])
            try db.execute(sql: "UPDATE resets SET used = 1 WHERE account = ?", arguments: [account])
            try db.execute(sql: "UPDATE refresh_tokens SET revoked = 1 WHERE account = ?", arguments: [account])
        }
        await audit("password-reset", ["account": account])
        return Self.json(["reset": true, "sessions": "signed out"])
    }
}
