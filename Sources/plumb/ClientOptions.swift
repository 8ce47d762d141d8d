import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import PlumbAPI

/// Output format of client commands.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json
}

/// Options every client command shares: where the server is and how to authenticate.
struct ClientOptions: ParsableArguments {
    @Option(help: "URL of the Plumb server.")
    var server = ProcessInfo.processInfo.environment["PLUMB_SERVER"] ?? "http://127.0.0.1:9400"

    @Option(
        help:
            "Admin or API token (default: $PLUMB_TOKEN, else the one `plumb login` saved, else the admin.token file in --data)."
    )
    var token: String?

    @Option(help: "Data directory whose admin.token to read when no token is given.")
    var data = ProcessInfo.processInfo.environment["STATE_DIRECTORY"] ?? "./plumb-data"

    @Option(help: "Output format: text or json.")
    var output: OutputFormat = .text

    func resolvedToken() throws -> String {
        if let token { return token }
        if let env = ProcessInfo.processInfo.environment["PLUMB_TOKEN"], !env.isEmpty { return env }
        // A user's token saved by `plumb login`.
        if let saved = try? String(contentsOfFile: LoginCommand.path, encoding: .utf8), !saved.isEmpty {
            return saved.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        for path in [data + "/admin.token", "/var/lib/plumb/admin.token"] {
            if let text = try? String(contentsOfFile: path, encoding: .utf8) {
                return text.trimmingCharacters(in: .whitespacesAndNewlines)
            }
        }
        throw ValidationError(
            "no admin token: pass --token, set PLUMB_TOKEN, or point --data at the server's data directory")
    }

    /// Sends a request to the server; throws a readable error for connection failures and non-2xx answers.
    /// `authenticated: false` sends no token (`plumb login` getting one).
    func request(
        _ method: HTTPMethod, _ path: String, body: [UInt8]? = nil, contentType: String = "application/json",
        authenticated: Bool = true, headers: [(String, String)] = []
    ) async throws -> (status: Int, body: [UInt8]) {
        var request = HTTPClientRequest(url: server.trimmingCharacters(in: CharacterSet(charactersIn: "/")) + path)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if authenticated { request.headers.add(name: "Authorization", value: "Bearer \(try resolvedToken())") }
        if let body {
            request.headers.add(name: "Content-Type", value: contentType)
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        let response: HTTPClientResponse
        do {
            response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        } catch {
            throw CLIError("cannot reach \(server): \(error)")
        }
        let bytes = Array(try await response.body.collect(upTo: 64 * 1_048_576).readableBytesView)
        let status = Int(response.status.code)
        guard (200..<300).contains(status) else {
            if let answer = try? JSONDecoder().decode(ErrorBody.self, from: Data(bytes)) {
                // A list of problems (alert files' FILE:LINE: FIELD: MESSAGE) follows the message, one a line.
                let problems = (answer.errors ?? []).map { e in
                    "\n  \(e.file ?? "")\(e.line.map { ":\($0)" } ?? ""): \(e.field.map { "\($0): " } ?? "")\(e.message)"
                }
                throw CLIError(
                    "\(status) \(answer.error.code): \(answer.error.message)" + problems.joined(),
                    code: answer.error.code)
            }
            throw CLIError("\(status): \(String(decoding: bytes, as: UTF8.self))")
        }
        return (status, bytes)
    }

    /// Prints an answer for `--output json`, indented with sorted keys (as-is when it is not JSON). Free-form on
    /// purpose: it shows whatever the server or a plugin answered, numbers exactly as they were written.
    func printJSON(_ body: [UInt8]) {
        if let object = try? JSONSerialization.jsonObject(with: Data(body)),
            let pretty = try? JSONSerialization.data(
                withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        {
            print(String(decoding: pretty, as: UTF8.self))
        } else {
            print(String(decoding: body, as: UTF8.self))
        }
    }
}

struct CLIError: Error, CustomStringConvertible {
    let description: String
    /// The server's error code, when the error is its answer.
    var code: String?
    init(_ description: String, code: String? = nil) {
        self.description = description
        self.code = code
    }
}

/// Left-aligned columns for text output.
func table(_ header: [String], _ rows: [[String]]) -> String {
    let all = [header] + rows
    let widths = header.indices.map { i in all.map { $0[i].count }.max() ?? 0 }
    return all.map { row in
        row.indices.map { i in
            i == row.count - 1 ? row[i] : row[i].padding(toLength: widths[i], withPad: " ", startingAt: 0)
        }
        .joined(separator: "  ")
    }.joined(separator: "\n")
}
