import Classifier
import Documents
import Foundation
import HummingbirdTesting
import NIOCore
import PlumbKit
import PlumbServer
import PlumbServerTesting
import PlumbTesting
import Testing

/// The document service through the server: uploads good and bad, entities, the word cloud (layout without
/// overlaps; rendered by headless Chromium), clustering into named categories, download and delete.
@Suite("Documents API", .serialized)
struct DocumentsAPITests {
    /// Uploads are for signed-in users and operators: the admin token here (the access tests cover end users).
    static func upload(
        _ client: any TestClientProtocol, _ server: PlumbServer, _ name: String, _ bytes: [UInt8],
        type: String = "text/plain; charset=utf-8"
    ) async throws -> TestResponse {
        try await client.execute(
            uri:
                "/apps/documents/files?name=\(name.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? name)",
            method: .post,
            headers: [.contentType: type, .authorization: "Bearer \(server.token)"], body: ByteBuffer(bytes: bytes))
    }

    @Test("bad input gets a clear 4xx: binary, invalid UTF-8, empty, whitespace only, oversized, wrong type, no name")
    func badInput() async throws {
        let configure: (inout ServerConfig) -> Void = { $0.plugins["documents"] = ["max_bytes": "2048"] }
        try await withTestServer(
            plugins: [DocumentsPlugin.self], configure: configure
        ) { server, client in
            let cases: [(String, [UInt8], String, Int, String)] = [
                (
                    "a.bin", [0x7F, 0x45, 0x4C, 0x46, 0x02, 0x01, 0x00, 0x00, 0x00] + Array(repeating: 0, count: 64),
                    "application/octet-stream", 415, "BinaryFile"
                ),
                (
                    "latin1.txt", Array("caf".utf8) + [0xE9, 0x20] + Array("au lait".utf8), "text/plain", 415,
                    "InvalidUTF8"
                ),
                ("overlong.txt", [0x41, 0xC0, 0xAF, 0x42], "text/plain", 415, "InvalidUTF8"),
                ("empty.txt", [], "text/plain", 400, "EmptyFile"),
                ("blank.txt", Array(" \n\t\n".utf8), "text/plain", 400, "EmptyFile"),
                ("big.txt", Array(repeating: 0x61, count: 2049), "text/plain", 413, "FileTooLarge"),
                ("page.html", Array("<p>hi</p>".utf8), "text/html", 415, "UnsupportedMediaType"),
                ("x.txt", Array("hello".utf8), "text/plain; charset=iso-8859-1", 415, "UnsupportedCharset"),
            ]
            for (name, bytes, type, status, code) in cases {
                let r = try await Self.upload(client, server, name, bytes, type: type)
                let error = r.json["error"] as? [String: Any]
                #expect(
                    Int(r.status.code) == status && error?["code"] as? String == code, "\(name): \(r.status) \(r.text)")
                let message = error?["message"] as? String ?? ""
                #expect(message.count > 10, "\(name): a message says why")
            }
            let invalid = try await Self.upload(
                client, server, "latin1.txt", Array("caf".utf8) + [0xE9, 0x20], type: "text/plain")
            #expect(invalid.text.contains("at byte 3"), "\(invalid.text)")
            let noName = try await client.admin("/apps/documents/files", method: .post, body: "text", server: server)
            #expect(noName.status.code == 400 && noName.text.contains("name"))
            let list = try await client.execute(uri: "/apps/documents/files", method: .get)
            #expect((list.json["files"] as? [Any])?.isEmpty == true, "nothing of a refused upload is stored")
        }
    }

    @Test("upload, entities, word cloud, clustering into named categories, listing by category, download, delete")
    func lifecycle() async throws {
        let (texts, truth) = try ClusteringTests.corpus(each: 12)
        let configure: (inout ServerConfig) -> Void = { $0.plugins["documents"] = ["k_min": "2", "k_max": "5"] }
        try await withTestServer(
            plugins: [DocumentsPlugin.self], configure: configure
        ) { server, client in
            let story = """
                Captain James T. Kirk beamed down to Vulcan with Spock. Spock said the Enterprise would wait in orbit. \
                Kirk asked Starfleet Command for new orders, and Starfleet Command sent the Enterprise to Romulus. \
                "Fascinating," said Spock. Dr. McCoy stayed on the Enterprise.
                """
            let first = try await Self.upload(client, server, "kirk.txt", Array(story.utf8))
            #expect(first.status.code == 201, "\(first.text)")
            let id = try #require(first.json["id"] as? String)
            let entities = (first.json["entities"] as? [[String: Any]] ?? []).map {
                ($0["text"] as? String ?? "", $0["mentions"] as? Int ?? 0)
            }
            #expect(entities.first?.0 == "Spock" || entities.first?.0 == "Enterprise", "\(entities)")
            #expect(
                entities.contains { $0 == ("Starfleet Command", 2) } && entities.contains { $0 == ("Enterprise", 3) },
                "\(entities)")

            // The word cloud: SVG whose words are the entities, no two boxes overlapping.
            let svg = try await client.execute(uri: "/apps/documents/files/\(id)/wordcloud.svg", method: .get)
            #expect(svg.status.code == 200 && svg.headers[.contentType]?.hasPrefix("image/svg+xml") == true)
            #expect(
                svg.text.hasPrefix("<svg") && svg.text.contains(">Spock</text>")
                    && svg.text.contains(">Starfleet Command</text>"))
            let cloud = WordCloud(entities, width: 800, height: 500)
            #expect(cloud.words.count == entities.count && cloud.left.isEmpty && !cloud.hasOverlaps)

            // Download gives the bytes back; the text is kept as uploaded.
            let download = try await client.execute(uri: "/apps/documents/files/\(id)", method: .get)
            #expect(download.text == story && download.headers[.contentType] == "text/plain; charset=utf-8")

            // 48 fortunes from four files, then clustering with k by silhouette.
            for (i, text) in texts.enumerated() {
                let r = try await Self.upload(client, server, "fortune-\(i)-\(truth[i]).txt", Array(text.utf8))
                #expect(r.status.code == 201, "\(r.text)")
            }
            let clustered = try await client.admin("/apps/documents/cluster", method: .post, body: "{}", server: server)
            #expect(clustered.status.code == 200, "\(clustered.text)")
            let k = try #require(clustered.json["k"] as? Int)
            #expect((2...5).contains(k) && (clustered.json["tried"] as? [Any])?.count == 4, "\(clustered.text)")
            let categories = try await client.execute(uri: "/apps/documents/categories", method: .get)
            let listed = categories.json["categories"] as? [[String: Any]] ?? []
            #expect(
                listed.count == k
                    && listed.allSatisfy { ($0["name"] as? String ?? "").split(separator: "-").count == 3 },
                "\(categories.text)")
            #expect(listed.reduce(0) { $0 + ($1["files"] as? Int ?? 0) } == texts.count + 1)
            let firstCategory = try #require(listed.first?["id"] as? Int)
            let inCategory = try await client.execute(
                uri: "/apps/documents/files?category=\(firstCategory)", method: .get)
            let firstName = try #require(listed.first?["name"] as? String)
            #expect(
                (inCategory.json["files"] as? [[String: Any]] ?? []).allSatisfy {
                    $0["category"] as? Int == firstCategory
                        && ($0["object"] as? String ?? "").hasPrefix("documents/\(firstName)/")
                }, "each file is stored under its category: \(inCategory.text)")
            #expect(
                try await client.execute(uri: "/apps/documents/files/\(id)", method: .get).text == story,
                "still readable after its move")
            // A chosen k; a new upload lands in the nearest category at once.
            let three = try await client.admin(
                "/apps/documents/cluster", method: .post, body: #"{"k": 3}"#, server: server)
            #expect(three.json["k"] as? Int == 3)
            let late = try await Self.upload(
                client, server, "late.txt",
                Array("Spock and Kirk on the bridge of the Enterprise; Captain's log, stardate 3012.4.".utf8))
            #expect(late.json["category"] is Int, "\(late.text)")
            let bad = try await client.admin(
                "/apps/documents/cluster", method: .post, body: #"{"k": 1}"#, server: server)
            #expect(bad.status.code == 400)

            // The nightly clustering is a scheduled function; invoked by hand it re-clusters by silhouette.
            let nightly = try await client.admin(
                "/api/v1/functions/documents.nightly-cluster/invoke", method: .post, body: "{}", server: server)
            #expect(nightly.status.code == 200 && nightly.text.contains("\"k\""), "\(nightly.text)")

            // Delete.
            #expect(
                try await client.execute(uri: "/apps/documents/files/\(id)", method: .delete).status.code == 401,
                "deleting needs a credential")
            #expect(
                try await client.admin("/apps/documents/files/\(id)", method: .delete, server: server).status.code
                    == 204)
            #expect(try await client.execute(uri: "/apps/documents/files/\(id)", method: .get).status.code == 404)
        }
    }

    @Test("headless Chromium renders the SVG: a readable cloud (coloured words on white, every word drawn)")
    func chromiumScreenshot() async throws {
        let dir = TemporaryDirectory("plumb-wordcloud")
        defer { dir.remove() }
        let text = try String(
            contentsOfFile: Checkout.root + "/Tests/DocumentsTests/entities-gold.json", encoding: .utf8)
        let passages =
            (try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])?["passages"] as? [[String: Any]]
            ?? []
        let corpus = passages.map { $0["text"] as? String ?? "" }.joined(separator: "\n\n")
        let entities = EntityTests.extractor.entities(in: corpus)
        let cloud = WordCloud(entities.map { ($0.text, $0.mentions) }, width: 800, height: 500)
        #expect(!cloud.hasOverlaps && cloud.words.count >= 40, "\(cloud.words.count) words, left: \(cloud.left)")
        try cloud.svg(title: "fortunes").write(toFile: dir.path + "/cloud.svg", atomically: true, encoding: .utf8)
        let shot = dir.path + "/cloud.png"
        let chromium =
            FileManager.default.isExecutableFile(atPath: "/usr/bin/chromium")
            ? "/usr/bin/chromium" : "/usr/bin/chromium-browser"
        let run = try await Subprocess.run(
            chromium,
            [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars",
                "--user-data-dir=\(dir.path)/profile",
                "--window-size=800,500", "--screenshot=\(shot)", "file://\(dir.path)/cloud.svg",
            ], timeout: .seconds(90))
        try #require(
            FileManager.default.fileExists(atPath: shot),
            "chromium made no screenshot (\(run.status)): \(run.text.suffix(2_000))")
        let (image, _) = try DecodedImage.decode(Array(try Data(contentsOf: URL(fileURLWithPath: shot))))
        #expect(image.width == 800 && image.height == 500)
        var white = 0
        var coloured = 0
        for p in stride(from: 0, to: image.rgb.count, by: 3) {
            let (r, g, b) = (Int(image.rgb[p]), Int(image.rgb[p + 1]), Int(image.rgb[p + 2]))
            if r > 245 && g > 245 && b > 245 { white += 1 } else if max(r, g, b) - min(r, g, b) > 60 { coloured += 1 }
        }
        let pixels = image.width * image.height
        print(
            String(
                format: "word cloud: %d words, %.1f %% of the screenshot inked in colour, %.1f %% white; %@",
                cloud.words.count, Double(coloured) * 100 / Double(pixels), Double(white) * 100 / Double(pixels), shot))
        #expect(Double(white) / Double(pixels) > 0.5, "a white background")
        #expect(Double(coloured) / Double(pixels) > 0.03, "coloured words drawn")
        if let keep = ProcessInfo.processInfo.environment["PLUMB_KEEP_SCREENSHOT"] {
            try? FileManager.default.copyItem(atPath: shot, toPath: keep)
        }
    }
}
