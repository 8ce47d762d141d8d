import Classifier
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import NIOFoundationCompat
import PlumbServer
import PlumbServerTesting
import PlumbTesting
import Testing

/// The classification service through the API: the image loop with the 3-minute schedule under an injected clock,
/// and bad input that must be refused whole.
@Suite("Classifier API", .serialized)
struct ClassifierAPITests {
    @Test(
        "digits as PNGs: half labelled, auto mode retrains in one schedule tick, the new version gets ≥ 90 % of the other half"
    )
    func imageLoop() async throws {
        let pngs = TemporaryDirectory("plumb-digits")
        defer { pngs.remove() }
        let render = try await Python.run(Checkout.root + "/Tests/ClassifierTests/digits_png.py", [pngs.path])
        try #require(render.status == 0, "digits_png.py: \(render.errors)")
        let labels = try JSONDecoder().decode(
            [String: String].self, from: Data(contentsOf: URL(fileURLWithPath: pngs.path + "/labels.json")))
        let keys = labels.keys.sorted()
        try await withTestServer(plugins: [ClassifierPlugin.self]) { server, client in
            for key in keys {
                let bytes = try Data(contentsOf: URL(fileURLWithPath: pngs.path + "/\(key).png"))
                let response = try await client.execute(
                    uri: "/apps/classifier/images/\(key)", method: .post, body: ByteBuffer(data: bytes))
                #expect(response.status.code == 201, "\(key): \(response.text)")
            }
            // Label every other image (the manager's work; needs the token).
            let labelled = keys.enumerated().filter { $0.offset % 2 == 0 }.map(\.element)
            let unlabelled = keys.enumerated().filter { $0.offset % 2 == 1 }.map(\.element)
            let refused = try await client.execute(
                uri: "/apps/classifier/images/\(labelled[0])/label", method: .put,
                body: ByteBuffer(string: #"{"label": "0"}"#))
            #expect(refused.status.code == 401, "labelling needs the admin token")
            for key in labelled {
                let r = try await client.admin(
                    "/apps/classifier/images/\(key)/label", method: .put, body: #"{"label": "\#(labels[key]!)"}"#,
                    server: server)
                #expect(r.status.code == 200)
            }
            let set = try await client.admin(
                "/apps/classifier/manager", method: .put, body: #"{"mode": "auto", "min_new_labels": 100}"#,
                server: server)
            #expect(set.json["newLabels"] as? Int == labelled.count, "\(set.text)")

            // The schedule under an injected clock: the first tick sets the baseline, the one 3 minutes later fires.
            // rate(3 minutes) runs on multiples of 180 s since the epoch.
            let t0 = Int64(Date().timeIntervalSince1970) / 180 * 180 + 1
            try await server.scheduler.tick(now: t0)
            #expect(try await server.scheduler.tick(now: t0 + 60).isEmpty, "not yet due")
            let fired = try await server.scheduler.tick(now: t0 + 181)
            #expect(fired.contains("classifier.retrain"))
            // A schedule's run is an async event accepted, as EventBridge's invocation of a Lambda function is.
            let exposition = try await client.execute(uri: "/metrics", method: .get).text
            #expect(exposition.contains("plumb_usage_async_events_total{Function=\"classifier.retrain\"} 1"))
            _ = try await server.asyncDispatcher.runDue(now: Double(t0 + 181))
            let runs =
                try await client.execute(uri: "/apps/classifier/training-runs", method: .get).json["runs"]
                as? [[String: Any]] ?? []
            let run = try #require(runs.first)
            #expect(run["decision"] as? String == "trained", "\(runs)")
            #expect((run["reason"] as? String)?.contains("\(labelled.count) new labels") == true, "\(run)")

            // The new version classifies the unlabelled half.
            let models =
                try await client.execute(uri: "/apps/classifier/models", method: .get).json["models"]
                as? [[String: Any]] ?? []
            #expect(models.first { $0["name"] as? String == "images" }?["activeVersion"] as? Int == 1)
            var correct = 0
            for key in unlabelled {
                let bytes = try Data(contentsOf: URL(fileURLWithPath: pngs.path + "/\(key).png"))
                // A second upload under a new key is classified with the active version.
                let r = try await client.execute(
                    uri: "/apps/classifier/images/re-\(key)", method: .post, body: ByteBuffer(data: bytes))
                if r.json["class"] as? String == labels[key] { correct += 1 }
            }
            let accuracy = Double(correct) / Double(unlabelled.count)
            print(
                "image loop: \(keys.count) digits, \(labelled.count) labelled, version 1 classifies the other \(unlabelled.count) with accuracy \(accuracy); run: \(run["reason"] ?? "")"
            )
            #expect(accuracy >= 0.9)

            // The next tick has nothing new to learn: skipped, with the reason.
            _ = try await server.scheduler.tick(now: t0 + 361)
            _ = try await server.asyncDispatcher.runDue(now: Double(t0 + 361))
            let again =
                try await client.execute(uri: "/apps/classifier/training-runs", method: .get).json["runs"]
                as? [[String: Any]] ?? []
            #expect(again.first?["decision"] as? String == "skipped")
            #expect((again.first?["reason"] as? String)?.contains("0 new labels") == true, "\(again.first ?? [:])")

            // Browse: by class, by key, one image with its details, the raw bytes.
            let sevens =
                try await client.execute(uri: "/apps/classifier/images?class=7&limit=1000", method: .get).json["items"]
                as? [[String: Any]] ?? []
            #expect(sevens.count > 100)
            let search =
                try await client.execute(uri: "/apps/classifier/images?key=digit-000", method: .get).json["items"]
                as? [[String: Any]] ?? []
            #expect(
                search.count >= 10 && search.allSatisfy { ($0["key"] as? String)?.contains("digit-000") == true },
                "\(search.count)")
            let one = try await client.execute(uri: "/apps/classifier/images/digit-0000", method: .get)
            #expect(one.json["width"] as? Int == 32 && one.json["label"] as? String == labels["digit-0000"])
            let raw = try await client.execute(uri: "/apps/classifier/images/digit-0000/raw", method: .get)
            #expect(raw.headers[.contentType] == "image/png" && raw.body.readableBytes > 50)
        }
    }

    @Test("a JPEG (made by libjpeg's cjpeg) is decoded and stored with its size")
    func jpegUpload() async throws {
        let dir = TemporaryDirectory("plumb-jpeg")
        defer { dir.remove() }
        // A 64×48 colour gradient as PPM, then JPEG.
        var ppm = Array("P6\n64 48\n255\n".utf8)
        for y in 0..<48 { for x in 0..<64 { ppm += [UInt8(x * 4), UInt8(y * 5), 128] } }
        try Data(ppm).write(to: URL(fileURLWithPath: dir.path + "/in.ppm"))
        let cjpeg = try await CLI.runProgram(
            "/usr/bin/cjpeg", ["-quality", "90", "-outfile", dir.path + "/out.jpg", dir.path + "/in.ppm"])
        try #require(
            cjpeg.status == 0, "cjpeg (libjpeg-turbo-progs) is needed; scripts/setup.sh installs it: \(cjpeg.output)")
        let jpeg = try Data(contentsOf: URL(fileURLWithPath: dir.path + "/out.jpg"))
        try await withTestServer(plugins: [ClassifierPlugin.self]) { _, client in
            let r = try await client.execute(
                uri: "/apps/classifier/images/gradient", method: .post, body: ByteBuffer(data: jpeg))
            #expect(r.status.code == 201, "\(r.text)")
            #expect(r.json["contentType"] as? String == "image/jpeg")
            #expect(r.json["width"] as? Int == 64 && r.json["height"] as? Int == 48)
            let broken = try await client.execute(
                uri: "/apps/classifier/images/cut", method: .post, body: ByteBuffer(data: jpeg.prefix(200)))
            #expect(broken.status.code == 400, "a truncated JPEG: \(broken.text)")
        }
    }

    @Test("bad input: each a clear 4xx, and nothing half-stored")
    func badInput() async throws {
        try await withTestServer(plugins: [ClassifierPlugin.self]) { server, client in
            func post(_ uri: String, _ body: [UInt8], admin: Bool = false) async throws -> TestResponse {
                try await client.execute(
                    uri: uri, method: .post, headers: admin ? [.authorization: "Bearer \(server.token)"] : [:],
                    body: ByteBuffer(bytes: body))
            }
            let cases: [(String, String, [UInt8], Bool, Int, String)] = [
                (
                    "ragged CSV", "/apps/classifier/datasets?name=bad&label=label",
                    Array("a,b,label\n1,2,x\n3,y\n".utf8), true, 400, "line 3: 2 fields"
                ),
                (
                    "non-numeric feature", "/apps/classifier/datasets?name=bad&label=label",
                    Array("a,b,label\n1,zz,x\n".utf8), true, 400, "'zz' is not a finite number"
                ),
                (
                    "missing label", "/apps/classifier/datasets?name=bad&label=label", Array("a,b,label\n1,2,\n".utf8),
                    true, 400, "label 'label' is missing"
                ),
                (
                    "NaN", "/apps/classifier/datasets?name=bad&label=label", Array("a,b,label\n1,nan,x\n2,3,y\n".utf8),
                    true, 400, "not a finite number"
                ),
                (
                    "no label column", "/apps/classifier/datasets?name=bad&label=kind",
                    Array("a,b,label\n1,2,x\n".utf8), true, 400, "no label column 'kind'"
                ),
                (
                    "one class only", "/apps/classifier/datasets?name=bad&label=label",
                    Array("a,label\n1,x\n2,x\n".utf8), true, 400, "at least two classes"
                ),
                (
                    "dataset without token", "/apps/classifier/datasets?name=bad&label=label",
                    Array("a,label\n1,x\n2,y\n".utf8), false, 401, ""
                ),
                (
                    "wrong feature count", "/apps/classifier/predict", Array(#"{"x1": 1, "x2": 2, "x3": 3}"#.utf8),
                    false, 400, "'x4' is missing"
                ),
                (
                    "NaN-like feature", "/apps/classifier/predict",
                    Array(#"{"x1": "NaN", "x2": 2, "x3": 3, "x4": 4}"#.utf8), false, 400, "'x1' must be a finite number"
                ),
                ("not JSON", "/apps/classifier/predict", Array("x1=1".utf8), false, 400, "JSON object of features"),
                (
                    "unknown model", "/apps/classifier/predict?model=nope", Array(#"{"x1": 1}"#.utf8), false, 404,
                    "no active model named 'nope'"
                ),
                (
                    "batch with wrong columns", "/apps/classifier/predict/batch", Array("x1,x2\n1,2\n".utf8), false,
                    400, "the model's features"
                ),
                (
                    "non-image bytes", "/apps/classifier/images/junk", Array("hello, I am text".utf8), false, 415,
                    "neither a PNG nor a JPEG"
                ),
                (
                    "truncated PNG", "/apps/classifier/images/broken",
                    [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13], false, 400, "PNG"
                ),
                ("bad key", "/apps/classifier/images/a%20b", Array("x".utf8), false, 400, "the key must be"),
                (
                    "unknown model to train", "/apps/classifier/train", Array(#"{"model": "nope"}"#.utf8), true, 404,
                    "no data set named 'nope'"
                ),
                (
                    "bad parameters", "/apps/classifier/train",
                    Array(#"{"model": "iris", "parameters": {"eta": 5}}"#.utf8), true, 400, "eta must be"
                ),
            ]
            for (name, uri, body, admin, status, says) in cases {
                let r = try await post(uri, body, admin: admin)
                #expect(Int(r.status.code) == status, "\(name): \(r.status) \(r.text)")
                if !says.isEmpty { #expect(r.text.contains(says), "\(name): \(r.text)") }
            }
            // A huge image: refused from its header, before any pixel is decoded.
            let huge = Self.pngHeader(width: 5_000, height: 5_000)
            let r = try await post("/apps/classifier/images/huge", huge)
            #expect(r.status.code == 413, "\(r.text)")
            // Nothing half-stored: no data set 'bad', no image rows, no prediction rows from the refused calls.
            #expect(
                (try await client.execute(uri: "/apps/classifier/datasets", method: .get).json["datasets"]
                    as? [[String: Any]] ?? []).allSatisfy { $0["name"] as? String != "bad" })
            #expect(
                (try await client.execute(uri: "/apps/classifier/images", method: .get).json["items"] as? [Any] ?? [])
                    .isEmpty)
            let predictions =
                try await client.execute(uri: "/apps/classifier/predictions", method: .get).json["items"] as? [Any]
                ?? []
            #expect(predictions.isEmpty)
        }
    }

    /// A PNG whose IHDR claims `width`×`height` (with a valid CRC) and a tiny, incomplete IDAT.
    static func pngHeader(width: UInt32, height: UInt32) -> [UInt8] {
        func be(_ v: UInt32) -> [UInt8] {
            [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)]
        }
        func crc(_ bytes: [UInt8]) -> UInt32 {
            var c: UInt32 = 0xFFFF_FFFF
            for b in bytes {
                c ^= UInt32(b)
                for _ in 0..<8 { c = c & 1 == 1 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
            }
            return c ^ 0xFFFF_FFFF
        }
        let ihdr: [UInt8] = Array("IHDR".utf8) + be(width) + be(height) + [8, 2, 0, 0, 0]
        let idat: [UInt8] = Array("IDAT".utf8) + [0x78, 0x9C, 0, 0, 0, 0]
        return [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + be(13) + ihdr + be(crc(ihdr)) + be(6) + idat
            + be(crc(idat))
    }
}
