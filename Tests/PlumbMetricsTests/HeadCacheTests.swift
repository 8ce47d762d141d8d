import PlumbAPI
import Testing

@testable import PlumbMetrics

@Suite("Line protocol: heads remembered across requests")
struct HeadCacheTests {
    @Test("a head seen before parses to the same series without being decoded again; a bad one is refused every time")
    func acrossRequests() throws {
        let parser = LineProtocolParser(limits: IngestLimits())
        let body = Array(
            "App\\ One,host=b,az=x latency=1 1795000000\nApp\\ One,host=b,az=x latency=2 1795000001\n".utf8)
        let first = try parser.parse(body, precision: .s, now: 1_795_000_100)
        let second = try parser.parse(body, precision: .s, now: 1_795_000_100)
        #expect(first.heads.count == 1)
        #expect(second.heads.map(\.namespace) == ["App One"])
        #expect(second.heads[0].dimensions == [Dimension(name: "az", value: "x"), Dimension(name: "host", value: "b")])
        #expect(second.points.map(\.value) == [1, 2])
        // The same raw head with a tag over the limit is never remembered, so it is refused on every request.
        let long = String(repeating: "v", count: IngestLimits().maxDimensionValueLength + 1)
        let bad = Array("App,host=\(long) latency=1 1795000000\n".utf8)
        for _ in 0..<2 {
            #expect(throws: MetricsError.self) { try parser.parse(bad, precision: .s, now: 1_795_000_100) }
        }
    }

    @Test("at capacity the cache starts over instead of growing")
    func capacity() {
        let cache = HeadCache(capacity: 2)
        let raws = ["a", "b", "c"].map { Array($0.utf8) }
        for (i, raw) in raws.enumerated() {
            cache.insert(
                UInt64(i), raw: raw, head: .init(namespace: String(decoding: raw, as: UTF8.self), dimensions: []))
        }
        raws[0].withUnsafeBufferPointer { #expect(cache.lookup(0, $0, 0, 1) == nil) }
        raws[2].withUnsafeBufferPointer { #expect(cache.lookup(2, $0, 0, 1)?.namespace == "c") }
    }
}
