import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL
import PlumbAPI
import PlumbMetrics

/// A scrape target of a `scrape_configs` job, once its labels are relabelled: the URL to read and the labels every
/// sample of it carries (`job`, `instance`, the static labels).
public struct ScrapeTarget: Sendable {
    public let job: ScrapeConfig
    public let url: String
    public let labels: [String: String]

    /// The targets of a job: every static target, labelled and relabelled as Prometheus does (`__address__`,
    /// `__scheme__`, `__metrics_path__`, `__param_<name>` are seen by the rules; labels starting with `__` are gone
    /// after; `instance` is the address unless a rule set it). A target a rule drops is not scraped.
    public static func targets(of job: ScrapeConfig) -> [ScrapeTarget] {
        var out: [ScrapeTarget] = []
        for group in job.staticConfigs {
            for address in group.targets {
                var labels = group.labels
                labels["job"] = job.jobName
                labels["__address__"] = address
                labels["__scheme__"] = job.scheme
                labels["__metrics_path__"] = job.metricsPath
                for (name, values) in job.params { if let first = values.first { labels["__param_\(name)"] = first } }
                guard var relabelled = RelabelRule.apply(job.relabelConfigs, to: labels),
                    let finalAddress = relabelled["__address__"], !finalAddress.isEmpty
                else { continue }
                let scheme = relabelled["__scheme__"] ?? job.scheme
                let path = relabelled["__metrics_path__"] ?? job.metricsPath
                var query: [String] = []
                for (name, values) in job.params.sorted(by: { $0.key < $1.key }) {
                    let first = relabelled["__param_\(name)"] ?? values.first ?? ""
                    for value in [first] + values.dropFirst() {
                        query.append("\(Self.escape(name))=\(Self.escape(value))")
                    }
                }
                if relabelled["instance"] == nil { relabelled["instance"] = finalAddress }
                relabelled = relabelled.filter { !$0.key.hasPrefix("__") && !$0.value.isEmpty }
                let url =
                    "\(scheme)://\(finalAddress)\(path)" + (query.isEmpty ? "" : "?" + query.joined(separator: "&"))
                out.append(ScrapeTarget(job: job, url: url, labels: relabelled))
            }
        }
        return out
    }

    static let unreserved = CharacterSet(
        charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    static func escape(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? text
    }
}

/// What one scrape of one target gave.
public struct ScrapeOutcome: Sendable {
    public var samples: [Sample] = []
    public var up = false
    public var seconds = 0.0
    /// Samples read from the page (before those no series can hold were skipped).
    public var scraped = 0
    /// Samples skipped: NaN and ±Inf, names or labels a Plumb series cannot hold.
    public var skipped = 0
    public var error: String?
}

/// Reads a target's page and makes its samples Plumb samples by the one naming rule (`PrometheusNames`), as remote
/// write stores them: each exposed sample is a sample of its series, counters as their running total, histograms as
/// their `_bucket{le}`, `_sum` and `_count` series, summaries as their quantiles. Adds Prometheus' `up`,
/// `scrape_duration_seconds`, `scrape_samples_scraped` for the target.
public struct Scraper: Sendable {
    public let client: HTTPClient
    public let validator: DatumValidator
    public let resolution: StorageResolution
    /// The largest page read.
    public let maxPageBytes: Int

    public init(client: HTTPClient, limits: IngestLimits, resolution: StorageResolution, maxPageBytes: Int = 64 << 20) {
        self.client = client
        validator = DatumValidator(limits: limits)
        self.resolution = resolution
        self.maxPageBytes = maxPageBytes
    }

    static let accept =
        "application/openmetrics-text;version=1.0.0;q=0.9,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"

    public func scrape(_ target: ScrapeTarget, now: Int64) async -> ScrapeOutcome {
        var outcome = ScrapeOutcome()
        let started = ContinuousClock.now
        do {
            let (page, openMetrics) = try await fetch(target)
            let parsed = try ExpositionParser(openMetrics: openMetrics, sampleLimit: target.job.sampleLimit).parse(page)
            outcome.scraped = parsed.samples.count
            for sample in parsed.samples { add(sample, of: target, now: now, to: &outcome) }
            outcome.up = true
        } catch let error as ExpositionParser.Invalid {
            outcome.error = "the page is not Prometheus text: \(error)"
            outcome.samples = []
        } catch {
            outcome.error = "\(error)"
            outcome.samples = []
        }
        let elapsed = ContinuousClock.now - started
        outcome.seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        for (name, value) in [
            ("up", outcome.up ? 1 : 0), ("scrape_duration_seconds", outcome.seconds),
            ("scrape_samples_scraped", Double(outcome.scraped)),
        ] {
            let labels = target.labels.map { (name: $0.key, value: $0.value) } + [("__name__", name)]
            if let key = try? PrometheusNames.seriesKey(labels: labels, validator: validator, at: target.url) {
                outcome.samples.append(
                    Sample(series: key, timestamp: now, resolution: resolution, value: .single(value)))
            }
        }
        return outcome
    }

    func add(_ sample: ExpositionParser.Sample, of target: ScrapeTarget, now: Int64, to outcome: inout ScrapeOutcome) {
        guard DatumValidator.acceptsValue(sample.value) else {
            outcome.skipped += 1
            return
        }
        // The target's labels first (a clashing scraped label kept as exported_<name>, unless honor_labels), then
        // metric_relabel_configs over the whole set, as Prometheus does.
        var labels: [String: String] = [:]
        for (name, value) in sample.labels { labels[name] = value }
        labels["__name__"] = sample.name
        for (name, value) in target.labels {
            if let scraped = labels[name] {
                if target.job.honorLabels { continue }
                var exported = "exported_" + name
                while labels[exported] != nil { exported = "exported_" + exported }
                labels[exported] = scraped
            }
            labels[name] = value
        }
        if !target.job.metricRelabelConfigs.isEmpty {
            guard let relabelled = RelabelRule.apply(target.job.metricRelabelConfigs, to: labels) else { return }
            labels = relabelled
        }
        var timestamp = now
        if target.job.honorTimestamps, let millis = sample.timestamp {
            timestamp = Checked.floorDivision(millis, 1_000)
            guard (try? validator.checkTimestamp(timestamp, now: now, at: "")) != nil else {
                outcome.skipped += 1
                return
            }
        }
        let pairs = labels.map { (name: $0.key, value: $0.value) }
        guard let key = try? PrometheusNames.seriesKey(labels: pairs, validator: validator, at: sample.name) else {
            outcome.skipped += 1
            return
        }
        outcome.samples.append(
            Sample(series: key, timestamp: timestamp, resolution: resolution, value: .single(sample.value)))
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    func fetch(_ target: ScrapeTarget) async throws -> ([UInt8], Bool) {
        var request = HTTPClientRequest(url: target.url)
        request.headers.add(name: "Accept", value: Self.accept)
        request.headers.add(name: "User-Agent", value: "plumb-scraper")
        request.headers.add(name: "X-Prometheus-Scrape-Timeout-Seconds", value: String(target.job.scrapeTimeout))
        if let auth = target.job.basicAuth {
            let password = try auth.password ?? auth.passwordFile.map(Self.secret) ?? ""
            let encoded = Data("\(auth.username):\(password)".utf8).base64EncodedString()
            request.headers.add(name: "Authorization", value: "Basic \(encoded)")
        }
        if let auth = target.job.authorization {
            let credentials = try auth.credentials ?? auth.credentialsFile.map(Self.secret) ?? ""
            request.headers.add(name: "Authorization", value: "\(auth.type) \(credentials)")
        }
        let timeout = TimeAmount.milliseconds(Int64(target.job.scrapeTimeout * 1_000))
        let response = try await client.execute(request, timeout: timeout)
        guard response.status == .ok else {
            throw Failure(description: "the target answered \(response.status.code) \(response.status.reasonPhrase)")
        }
        let body: ByteBuffer
        do {
            body = try await response.body.collect(upTo: maxPageBytes)
        } catch is NIOTooManyBytesError {
            throw Failure(description: "the page is larger than \(maxPageBytes) bytes")
        }
        let type = response.headers.first(name: "Content-Type")?.lowercased() ?? ""
        return (Array(body.readableBytesView), type.hasPrefix("application/openmetrics-text"))
    }

    /// A secret read from a file (`password_file`, `credentials_file`), its trailing newline removed; one that would
    /// break the header (a control character) is refused.
    static func secret(_ path: String) throws -> String {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw Failure(description: "cannot read \(path)")
        }
        let secret = text.trimmingCharacters(in: .newlines)
        guard !DatumValidator.hasControlCharacter(secret) else {
            throw Failure(description: "\(path) holds a control character")
        }
        return secret
    }

    /// The HTTP client of a job: its TLS settings (`tls_config`), redirects not followed (as Prometheus).
    public static func client(for job: ScrapeConfig, on group: any EventLoopGroup) throws -> HTTPClient {
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow, timeout: .init())
        if let tls = job.tlsConfig {
            var settings = TLSConfiguration.makeClientConfiguration()
            if tls.insecureSkipVerify { settings.certificateVerification = .none }
            if let ca = tls.caFile { settings.trustRoots = .file(ca) }
            configuration.tlsConfiguration = settings
        }
        return HTTPClient(eventLoopGroupProvider: .shared(group), configuration: configuration)
    }
}
