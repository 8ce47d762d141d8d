import Crypto
import Foundation
import GRDB
import Logging
import PlumbAuth
import PlumbKit
import Synchronization

// Sign-up: the password rules, then the security questions.
extension AccountsPlugin {

    func signUp(_ r: FunctionRequest) async throws -> FunctionResponse {
        let source = r.headers["x-plumb-source"] ?? "unknown"
        if let wait = signUpThrottle.wait(source) {
            await audit("signup-throttled", ["source": source])
            throw FunctionError(
                status: 429, code: "TooManyRequests",
                message:
                    "too many sign-ups from this address (at most \(signUpThrottle.limit) an hour); try again in \(wait) s",
                retryAfter: wait)
        }
        let body = try Self.body(r)
        guard let given = body["email"] as? String else {
            throw FunctionError.badRequest("'email' must be an email address")
        }
        let email: String
        switch EmailIdentity.normalise(given) {
        case .success(let normalised): email = normalised
        case .failure(let refusal): throw FunctionError.badRequest("'email' is not accepted: it \(refusal.message)")
        }
        let password = body["password"] as? String ?? ""
        if let problem = PasswordRules.problem(password, email: email) {
            throw FunctionError(status: 400, code: "WeakPassword", message: problem)
        }
        let hashed = try hash(password)
        let id = UUID().uuidString.lowercased()
        let created = try await database.write { db -> Bool in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM accounts WHERE email = ?", arguments: [email]) == nil else {
                return false
            }
            try db.execute(
                sql: "INSERT INTO accounts (id, email, password, created_at) VALUES (?, ?, ?, ?)",
                arguments: [id, email, hashed, Date().timeIntervalSince1970])
            return true
        }
        guard created else {
            throw FunctionError(
                status: 409, code: "AccountExists",
                message: "an account with this email exists; sign in or reset the password")
        }
        await audit("signup", ["account": id])
        let confirmation = await sendConfirmation(account: id, email: email)
        return Self.json(
            ["account": id, "next": "security-questions", "questions": questions, "confirmation": confirmation],
            status: 201)
    }

    /// The second phase: at least two answers to the configured questions, checked against the password.
    func setQuestions(_ r: FunctionRequest) async throws -> FunctionResponse {
        let body = try Self.body(r)
        let account = try await authenticate(body, source: r.headers["x-plumb-source"] ?? "unknown")
        guard let given = body["answers"] as? [[String: Any]], given.count >= 2 else {
            throw FunctionError.badRequest("'answers' must hold at least two {question, answer}")
        }
        var rows: [(String, String)] = []
        for (i, a) in given.enumerated() {
            guard let q = a["question"] as? String, questions.contains(q) else {
                throw FunctionError.badRequest("answers[\(i)].question is not one of GET /apps/accounts/questions")
            }
            let answer = Self.normalisedAnswer(a["answer"] as? String ?? "")
            guard answer.count >= 2 else { throw FunctionError.badRequest("answers[\(i)].answer is too short") }
            rows.append((q, try hash(answer)))
        }
        guard Set(rows.map(\.0)).count == rows.count else {
            throw FunctionError.badRequest("each question may be answered once")
        }
        let stored = rows
        try await database.write { db in
            try db.execute(sql: "DELETE FROM answers WHERE account = ?", arguments: [account])
            for (q, h) in stored {
                try db.execute(
                    sql: "INSERT INTO answers (account, question, hash) VALUES (?, ?, ?)", arguments: [account, q, h])
            }
        }
        await audit("security-questions-set", ["account": account, "count": String(rows.count)])
        return Self.json(["account": account, "questions": rows.count])
    }
}
