import Foundation
import PlumbServer
import PlumbTesting
import PlumbVictoriaMetrics
import Testing

/// The `storage:` section: SQLite by default, VictoriaMetrics as a single node or a cluster, and every bad value an
/// error that names its key.
@Suite struct StorageConfigTests {
    @Test func defaultsAndBothShapes() throws {
        #expect(ServerConfig().storage.metrics == .sqlite)
        #expect(try ListenerConfigTests.load("listen: 127.0.0.1:9400\n").storage.metrics == .sqlite)
        let single = try ListenerConfigTests.load(
            "storage:\n  metrics: victoriametrics\n  victoriametrics:\n    url: http://vm:8428/\n    timeout: 5\n")
        #expect(single.storage.metrics == .victoriaMetrics)
        #expect(
            single.storage.victoriaMetrics
                == VictoriaMetricsSettings(
                    insertURL: "http://vm:8428", selectURL: "http://vm:8428", flushURLs: ["http://vm:8428"],
                    timeout: .seconds(5)))
        let cluster = try ListenerConfigTests.load(
            """
            storage:
              metrics: victoriametrics
              victoriametrics:
                insert_url: http://vminsert:8480/insert/0/prometheus
                select_url: http://vmselect:8481/select/0/prometheus
                flush_urls: [http://vmstorage-1:8482, http://vmstorage-2:8482]
                max_read_samples: 5000
            """)
        let settings = try #require(cluster.storage.victoriaMetrics)
        #expect(settings.insertURL == "http://vminsert:8480/insert/0/prometheus")
        #expect(settings.selectURL == "http://vmselect:8481/select/0/prometheus")
        #expect(settings.flushURLs == ["http://vmstorage-1:8482", "http://vmstorage-2:8482"])
        #expect(settings.maxReadSamples == 5_000)
    }

    @Test(arguments: [
        ("storage:\n  metrics: influx\n", "storage.metrics"),
        ("storage:\n  metrics: victoriametrics\n", "storage.victoriametrics.url is required"),
        ("storage:\n  victoriametrics:\n    url: http://a:1\n    insert_url: http://b:2\n", "either url"),
        ("storage:\n  victoriametrics:\n    insert_url: http://b:2\n", "either url"),
        ("storage:\n  victoriametrics:\n    url: ftp://vm:8428\n", "storage.victoriametrics.url"),
        (
            "storage:\n  victoriametrics:\n    insert_url: http://a:1\n    select_url: http://b:2\n",
            "storage.victoriametrics.flush_urls"
        ),
        (
            "storage:\n  victoriametrics:\n    insert_url: a:1\n    select_url: http://b:2\n    flush_urls: [http://c:3]\n",
            "storage.victoriametrics.insert_url"
        ),
        ("storage:\n  victoriametrics:\n    url: vm:8428\n", "storage.victoriametrics.url"),
        (
            "storage:\n  victoriametrics:\n    url: http://vm:1\n    flush_urls: [\"http:/x\"]\n",
            "storage.victoriametrics.flush_urls"
        ),
        ("storage:\n  victoriametrics:\n    url: http://vm:1\n    timeout: 0\n", "storage.victoriametrics.timeout"),
        (
            "storage:\n  victoriametrics:\n    url: http://vm:1\n    max_read_samples: 10\n",
            "storage.victoriametrics.max_read_samples"
        ),
    ])
    func badValuesNameTheirKey(yaml: String, key: String) {
        do {
            _ = try ListenerConfigTests.load(yaml)
            Issue.record("accepted: \(yaml)")
        } catch {
            #expect("\(error)".contains(key), "\(error)")
        }
    }
}
