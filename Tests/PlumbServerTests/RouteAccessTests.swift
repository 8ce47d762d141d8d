import Accounts
import Chat
import Classifier
import Documents
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import PlumbKit
import PlumbServer
import PlumbServerTesting
import PlumbTesting
import Sensors
import Sentiment
import Support
import Testing

/// Every route the router has, with the plugins Plumb ships, × {no credential, a wrong token, a read-only IAM user,
/// an end user's access token}: each answer must match the route's declared access (`PlumbServer.declaredAccess`),
/// and no route may go undeclared.
@Suite("Route access", .serialized)
struct RouteAccessTests {
    static let shipped: [any Plugin.Type] = [
        SentimentPlugin.self, ChatPlugin.self, SupportPlugin.self, ClassifierPlugin.self, SensorsPlugin.self,
        AccountsPlugin.self,
        DocumentsPlugin.self,
    ]

    enum Credential: String, CaseIterable {
        case none = "no credential"
        case wrong = "wrong token"
        case readOnly = "read-only IAM user"
        case endUser = "end-user token"
    }

    /// Whether `credential` may pass the route's access check (the handler may still refuse the dummy input).
    static func allowed(_ access: RouteAccess, _ credential: Credential) -> Bool {
        switch (access, credential) {
        case (.anyone, _), (.linkToken, _), (.function(.public, _), _): true
        case (_, .none), (_, .wrong): false
        case (.ownAccount, .readOnly): true
        case (.iam(let action), .readOnly):
            action.split(separator: ":").last.map { $0.hasPrefix("Get") || $0.hasPrefix("List") } ?? false
        case (.function(.user, _), .endUser): true
        default: false
        }
    }

    @Test("every route × {none, wrong token, read-only user, end user} answers as its declared access says")
    func matrix() async throws {
        let configure: (inout ServerConfig) -> Void = { $0.plugins["accounts"] = ["scrypt_n": "16384"] }
        try await withTestServer(plugins: Self.shipped, configure: configure) {
            server, client in
            // A read-only platform user, and an end user signed in through the accounts plugin.
            let created = try await client.admin(
                "/api/v1/iam/users", method: .post, body: #"{"name": "reader", "groups": ["read-only"]}"#,
                server: server)
            #expect(created.status.code == 201, "\(created.text)")
            let member = try await client.admin(
                "/api/v1/iam/groups/read-only/members/reader", method: .put, server: server)
            #expect(member.status.code == 204, "\(member.text)")
            let reader = try #require(
                try await client.admin("/api/v1/iam/users/reader/tokens", method: .post, server: server).json["token"]
                    as? String)
            let endUser = try await Self.signIn(client)

            let router = server.makeRouter()
            var rows: [String] = []
            var wrong: [String] = []
            var undeclared: [String] = []
            var readmeRows: [String] = []
            for route in router.routes {
                let method = route.method.rawValue
                let path = route.path.description
                guard let access = server.declaredAccess(method: method, path: path) else {
                    undeclared.append("\(method) \(path)")
                    continue
                }
                var uri = path.replacingOccurrences(of: #"\{[a-z_]+\}"#, with: "x", options: .regularExpression)
                if path.hasSuffix("/tail") { uri += "?seconds=1" }
                var cells: [String] = []
                for credential in Credential.allCases {
                    var headers: HTTPFields = [:]
                    switch credential {
                    case .none: break
                    case .wrong: headers[.authorization] = "Bearer not-a-token-anyone-issued"
                    case .readOnly: headers[.authorization] = "Bearer \(reader)"
                    case .endUser: headers[.authorization] = "Bearer \(endUser)"
                    }
                    let response = try await client.execute(uri: uri, method: route.method, headers: headers, body: nil)
                    let status = Int(response.status.code)
                    let code = (response.json["error"] as? [String: Any])?["code"] as? String ?? ""
                    // A refusal by the access checks: their 401 and 403 codes (a handler may refuse the dummy input
                    // with a code of its own, e.g. a refresh token it does not know).
                    // A public route's handler may still refuse a link whose signature is missing (403); the host
                    // checks nothing there, so only a 401 for want of a credential would be a wrong refusal.
                    let open = [RouteAccess.anyone, .linkToken].contains(access) || access.isPublicFunction
                    // The AWS endpoint refuses in AWS's shape: 403 with the query error code the JSON and CBOR protocols
                    // carry, or REST-JSON's error type.
                    let awsRefusal =
                        access == .awsSignature && status == 403
                        && (response.headers[HTTPField.Name("x-amzn-query-error")!] != nil
                            || response.headers[HTTPField.Name("x-amzn-ErrorType")!] != nil)
                    let refused =
                        (status == 401 && code == "Unauthorized")
                        || (!open && status == 403 && ["AccessDenied", "MFARequired"].contains(code)) || awsRefusal
                    let expected = Self.allowed(access, credential)
                    if refused == expected {
                        wrong.append(
                            "\(credential.rawValue) \(method) \(path) [\(access)]: \(status) \(response.text.prefix(160))"
                        )
                    }
                    if refused, credential == .none || credential == .wrong, status != 401, !awsRefusal {
                        wrong.append(
                            "\(credential.rawValue) \(method) \(path): a missing or wrong credential must be 401, got \(status)"
                        )
                    }
                    cells.append(refused ? "\(status) refused" : "\(status)")
                }
                rows.append("| `\(method) \(path)` | \(access) | " + cells.joined(separator: " | ") + " |")
                readmeRows.append("| `\(method) \(path)` | \(access) |")
            }
            print("| route | declared access | " + Credential.allCases.map(\.rawValue).joined(separator: " | ") + " |")
            print("|---|---|---|---|---|---|")
            print(rows.joined(separator: "\n"))
            #expect(undeclared.isEmpty, "routes without a declared access: \(undeclared)")
            #expect(wrong.isEmpty, "\(wrong.joined(separator: "\n"))")
            #expect(rows.count > 100, "\(rows.count) routes checked")
            // The README's table ("Who may call what") is the declaration, row for row.
            let readme = try String(contentsOfFile: Checkout.root + "/README.md", encoding: .utf8)
            let missing = readmeRows.filter { !readme.contains($0) }
            #expect(missing.isEmpty, "README rows missing or different:\n\(missing.joined(separator: "\n"))")
        }
    }

    /// Signs up, answers the security questions and signs in: the end user's access token.
    static func signIn(_ client: any TestClientProtocol) async throws -> String {
        let password = "Tangerine-Orbit-47-Quill"
        func post(_ path: String, _ body: [String: Any]) async throws -> TestResponse {
            try await client.execute(
                uri: "/apps/accounts" + path, method: .post, headers: [.contentType: "application/json"],
                body: ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: body)))
        }
        let signedUp = try await post("/signup", ["email": "erin@example.com", "password": password])
        #expect(signedUp.status.code == 201, "\(signedUp.text)")
        let questions = signedUp.json["questions"] as? [String] ?? []
        let answered = try await post(
            "/security-questions",
            [
                "email": "erin@example.com", "password": password,
                "answers": [
                    ["question": questions[0], "answer": "Saint Mary's"],
                    ["question": questions[1], "answer": "Leeds"],
                ],
            ])
        #expect(answered.status.code == 200, "\(answered.text)")
        let signedIn = try await post("/signin", ["email": "erin@example.com", "password": password])
        return try #require(signedIn.json["access_token"] as? String, "\(signedIn.text)")
    }
}

extension RouteAccess {
    var isPublicFunction: Bool {
        if case .function(.public, _) = self { return true }
        return false
    }
}
