/// Where Plumb finds VictoriaMetrics (`storage.victoriametrics` in the config).
///
/// A single node serves everything at one URL. A cluster writes through vminsert
/// (`http://vminsert:8480/insert/<tenant>/prometheus`) and reads through vmselect
/// (`http://vmselect:8481/select/<tenant>/prometheus`); `flushURLs` then names each vmstorage's HTTP address
/// (`http://vmstorage-1:8482`). vminsert buffers rows before passing them on, so on a cluster an acknowledged write
/// may become searchable a moment after the answer (README; the suite runs a single node only).
public struct VictoriaMetricsSettings: Sendable, Equatable {
    /// The base URL writes go to (`<insertURL>/api/v1/import`).
    public var insertURL: String
    /// The base URL reads go to (`/api/v1/export`, `/api/v1/query`).
    public var selectURL: String
    /// Base URLs whose `/internal/force_flush` makes a write searchable and durable before it is acknowledged.
    public var flushURLs: [String]
    /// How long one request to VictoriaMetrics may take.
    public var timeout: Duration
    /// The most raw samples one period read may fetch (exact statistics and percentiles come from raw samples);
    /// a read that needs more is refused with a message naming this limit.
    public var maxReadSamples: Int

    public static let defaultTimeout: Duration = .seconds(30)
    public static let defaultMaxReadSamples = 20_000_000

    /// A single node at `url` (`http://127.0.0.1:8428`).
    public init(url: String) {
        self.init(insertURL: url, selectURL: url, flushURLs: [url])
    }

    public init(
        insertURL: String, selectURL: String, flushURLs: [String], timeout: Duration = Self.defaultTimeout,
        maxReadSamples: Int = Self.defaultMaxReadSamples
    ) {
        self.insertURL = Self.trimmed(insertURL)
        self.selectURL = Self.trimmed(selectURL)
        self.flushURLs = flushURLs.map(Self.trimmed)
        self.timeout = timeout
        self.maxReadSamples = maxReadSamples
    }

    static func trimmed(_ url: String) -> String {
        var url = url
        while url.hasSuffix("/") { url.removeLast() }
        return url
    }

    /// `scheme://host:port` of a base URL: where a node's own `/metrics` is.
    static func origin(_ url: String) -> String {
        guard let scheme = url.range(of: "://") else { return url }
        let rest = url[scheme.upperBound...]
        let host = rest.firstIndex(of: "/").map { rest[..<$0] } ?? rest
        return String(url[..<scheme.upperBound]) + host
    }
}
