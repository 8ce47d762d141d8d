import PlumbAPI
import PlumbHost
import PlumbKit
import PlumbMetrics
import PlumbStore
import PlumbTesting
import Testing

/// A plugin's blob store counts its requests and bytes in `Plumb/Usage` as S3 prices them.
@Suite("Blob usage")
struct BlobUsageTests {
    @Test("puts, archives and restores are PUT requests, gets and listings GET requests; bytes moved are counted")
    func counted() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let factory = PlumbMetricsFactory()
        let blobs = MeteredBlobStore(try BlobStore(root: directory.path + "/blobs"), plugin: "p", factory: factory)
        try blobs.put("a/1", [UInt8](repeating: 7, count: 1_000), compressionLevel: 9)
        try blobs.put("a/2", [1, 2, 3], compressionLevel: nil)
        #expect(try blobs.get("a/1")?.count == 1_000)
        #expect(try blobs.get("a/none") == nil)
        #expect(blobs.list(prefix: "a/") == ["a/1", "a/2"])
        try blobs.archive("a/2")
        try blobs.restore("a/2", until: 2_000_000_000)
        try blobs.delete("a/1")
        var totals: [String: Double] = [:]
        for sample in factory.takeSamples(timestamp: 0, validator: DatumValidator(limits: IngestLimits()))
        where sample.series.namespace == "Plumb/Usage" {
            #expect(sample.series.dimensions == [Dimension(name: "Plugin", value: "p")])
            if case .single(let value) = sample.value { totals[sample.series.name, default: 0] += value }
        }
        #expect(totals["BlobPutRequests"] == 4, "\(totals)")
        #expect(totals["BlobGetRequests"] == 3, "\(totals)")
        #expect(totals["BlobBytesWritten"] == 1_003, "\(totals)")
        #expect(totals["BlobBytesRead"] == 1_000, "\(totals)")
    }
}
