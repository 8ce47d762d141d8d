import Foundation
import HummingbirdTesting
import PlumbMetrics
import PlumbServer
import PlumbServerTesting
import PlumbTesting
import Sentiment
import Testing

@Suite("HTTP API")
struct APITests {
    @Test("the admin token guards /api/v1 and /write; /healthz and /metrics are open")
    func auth() async throws {
        try await withTestServer { server, client in
            #expect(try await client.execute(uri: "/healthz", method: .get).status == .ok)
            #expect(try await client.execute(uri: "/metrics", method: .get).status == .ok)
            let denied = try await client.execute(uri: "/api/v1/functions", method: .get)
            #expect(denied.status.code == 401)
            #expect(denied.text.contains("\"code\":\"Unauthorized\""))
            let wrong = try await client.execute(
                uri: "/write", method: .post, headers: [.authorization: "Bearer nope"], body: .init(string: "m v=1"))
            #expect(wrong.status.code == 401)
            #expect(try await client.admin("/api/v1/functions", server: server).status == .ok)
            let missing = try await client.execute(uri: "/no/such/thing", method: .get)
            #expect(missing.status.code == 404)
            #expect(missing.json["error"] != nil, "errors are JSON, never HTML")
        }
    }

    @Test("a throttled HTTP call gets 429 with the Lambda error body and Retry-After")
    func throttledHTTP() async throws {
        try await withTestServer { server, client in
            let set = try await client.admin(
                "/api/v1/functions/probe.echo/concurrency", method: .put, body: #"{"reserved": 0}"#, server: server)
            #expect(set.status == .ok, "\(set.text)")
            #expect(set.json["reservedConcurrency"] as? Int == 0)
            let response = try await client.execute(uri: "/apps/probe/echo", method: .post, body: .init(string: "hi"))
            #expect(response.status.code == 429)
            #expect(response.headers[.retryAfter] == "1")
            let error = response.json["error"] as? [String: Any]
            #expect(error?["code"] as? String == "TooManyRequestsException")
            #expect(error?["reason"] as? String == "ReservedFunctionConcurrentInvocationLimitExceeded")
            let clear = try await client.admin(
                "/api/v1/functions/probe.echo/concurrency", method: .put, body: #"{"reserved": null}"#, server: server)
            #expect(clear.json["reservedConcurrency"] == nil)
            #expect(
                try await client.execute(uri: "/apps/probe/echo", method: .post, body: .init(string: "hi")).text == "hi"
            )
            let bad = try await client.admin(
                "/api/v1/functions/probe.echo/concurrency", method: .put, body: #"{"reserved": 5000}"#, server: server)
            #expect(bad.status.code == 400)
            let unknown = try await client.admin(
                "/api/v1/functions/nope.x/concurrency", method: .put, body: #"{"reserved": 1}"#, server: server)
            #expect(unknown.status.code == 404)
        }
    }

    @Test("path parameters reach the function")
    func pathParameters() async throws {
        try await withTestServer { _, client in
            let response = try await client.execute(uri: "/apps/probe/items/42", method: .get)
            #expect(response.json["id"] as? String == "42")
        }
    }

    @Test("GET /metrics passes promtool check metrics")
    func promtool() async throws {
        try await withTestServer { server, client in
            for _ in 0..<3 {
                _ = try await client.execute(uri: "/apps/probe/echo", method: .post, body: .init(string: "x"))
            }
            _ = try await client.execute(uri: "/apps/probe/fail", method: .post)
            let text = try await client.execute(uri: "/metrics", method: .get).text
            #expect(text.contains("plumb_functions_invocations_total{Function=\"probe.echo\"} 3"))
            #expect(text.contains("plumb_functions_duration_seconds_count{Function=\"probe.echo\"} 3"))
            // Usage as Lambda bills it, the GB-seconds a fractional counter: 3 echoes of at least 1 ms at 128 MB.
            #expect(text.contains("plumb_usage_requests_total{Function=\"probe.echo\"} 3"))
            let gbSeconds = text.split(separator: "\n").first {
                $0.hasPrefix("plumb_usage_gbseconds_total{Function=\"probe.echo\"} ")
            }
            #expect(
                gbSeconds.flatMap { Double($0.split(separator: " ").last ?? "") }.map { $0 >= 3 * 0.125 / 1_000 }
                    == true, "\(text)")
            let promtool = try await Subprocess.run("/usr/bin/promtool", ["check", "metrics"], input: Data(text.utf8))
            #expect(promtool.status == 0, "promtool: \(promtool.text)\n\(text)")
        }
    }

    @Test("sentiment routes: analyze, create, paginated list, clear errors")
    func sentiment() async throws {
        try await withTestServer(plugins: [SentimentPlugin.self]) { _, client in
            let analyzed = try await client.execute(
                uri: "/apps/sentiment/analyze", method: .post,
                body: .init(string: #"{"text": "I love this, it is great!"}"#))
            #expect(analyzed.json["label"] as? String == "Positive")
            for text in ["good", "bad", "meh", "awful", "wonderful"] {
                let created = try await client.execute(
                    uri: "/apps/sentiment/comments", method: .post, body: .init(string: #"{"content": "\#(text)"}"#))
                #expect(created.status.code == 201)
            }
            let page1 = try await client.execute(uri: "/apps/sentiment/comments?limit=2", method: .get)
            #expect((page1.json["items"] as? [Any])?.count == 2)
            let next = try #require(page1.json["next"] as? Int)
            let page3 = try await client.execute(
                uri: "/apps/sentiment/comments?limit=2&after=\(next + 2)", method: .get)
            #expect((page3.json["items"] as? [[String: Any]])?.first?["content"] as? String == "wonderful")
            #expect(page3.json["next"] == nil)
            let empty = try await client.execute(
                uri: "/apps/sentiment/comments", method: .post, body: .init(string: #"{"content": "  "}"#))
            #expect(empty.status.code == 400)
            let missing = try await client.execute(
                uri: "/apps/sentiment/comments", method: .post, body: .init(string: #"{"text": "x"}"#))
            #expect(missing.text.contains("'content' is required"))
            let badLimit = try await client.execute(uri: "/apps/sentiment/comments?limit=0", method: .get)
            #expect(badLimit.status.code == 400)
        }
    }
}
