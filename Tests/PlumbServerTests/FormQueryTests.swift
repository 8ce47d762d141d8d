import Documents
import Foundation
import HummingbirdTesting
import NIOCore
import PlumbServer
import PlumbServerTesting
import PlumbTesting
import Testing

/// Query strings are forms: `+` is a space, `%2B` a plus (curl --data-urlencode, Python requests and HTML forms send
/// spaces as `+`). Before, `filter=-ERROR+-INFO` returned every event and `filter=database+gone` none: a test per
/// query parameter that takes free text.
@Suite("Form-encoded query strings")
struct FormQueryTests {
    @Test("logs: filter terms, stream prefix and group prefix take + as a space")
    func logs() async throws {
        try await withTestServer { server, client in
            let events =
                #"{"events": [{"message": "ERROR database gone"}, {"message": "INFO fine"}, {"message": "WARN a+b literal"}]}"#
            #expect(
                try await client.admin("/api/v1/logs/shop/web%20one", method: .post, body: events, server: server)
                    .status == .ok)
            func messages(_ query: String) async throws -> [String] {
                let response = try await client.admin("/api/v1/logs/shop?" + query, server: server)
                return (response.json["events"] as? [[String: Any]] ?? []).compactMap { $0["message"] as? String }
            }
            #expect(try await messages("filter=-ERROR+-INFO") == ["WARN a+b literal"])
            #expect(try await messages("filter=database+gone") == ["ERROR database gone"])
            #expect(try await messages("filter=%22a%2Bb%22") == ["WARN a+b literal"], "%2B is a plus")
            #expect(try await messages("stream=web+one").count == 3, "the stream prefix 'web one'")
            let groups = try await client.admin("/api/v1/logs?prefix=sh", server: server)
            #expect((groups.json["groups"] as? [[String: Any]])?.count == 1)
        }
    }

    @Test("metrics: a dimension value with a space, written with +")
    func dimensions() async throws {
        try await withTestServer { server, client in
            let put = #"{"namespace": "App", "data": [{"name": "Hits", "dimensions": {"Host": "web 1"}, "value": 3}]}"#
            #expect(
                try await client.admin("/api/v1/metrics", method: .post, body: put, server: server).status == .noContent
            )
            let stats = try await client.admin(
                "/api/v1/metrics/statistics?namespace=App&name=Hits&dimensions=Host=web+1&statistics=Sum&period=60&start=-1h",
                server: server)
            let points = stats.json["datapoints"] as? [[String: Any]] ?? []
            #expect(points.count == 1, "\(stats.text)")
        }
    }

    @Test("plugins get decoded queries: a document named with a space")
    func pluginQuery() async throws {
        try await withTestServer(plugins: [DocumentsPlugin.self]) { server, client in
            let upload = try await client.execute(
                uri: "/apps/documents/files?name=my+notes.txt", method: .post,
                headers: [.contentType: "text/plain; charset=utf-8", .authorization: "Bearer \(server.token)"],
                body: ByteBuffer(string: "Ada Lovelace wrote notes in London."))
            #expect(upload.status.code == 201 && upload.json["name"] as? String == "my notes.txt", "\(upload.text)")
        }
    }
}
