import Foundation
import PlumbServer
import PlumbTesting
import PlumbVictoriaMetrics
import Testing

/// The `storage:` and `cluster:` sections: SQLite by default, VictoriaMetrics as a single node or a cluster, logs on
/// PostgreSQL, and every bad value an error that names its key.
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

    @Test func logsOnPostgres() throws {
        let config = try ListenerConfigTests.load(
            """
            storage:
              logs: postgres
              state: postgres
              postgres:
                url: postgres://plumb:s%40cret@db.internal:6432/plumb?sslmode=require&connect_timeout=5
                timeout: 4
            cluster:
              node: web-1
              url: http://10.0.0.11:9400
            """)
        #expect(config.storage.logs == .postgres && config.storage.state == .postgres)
        let postgres = try #require(config.storage.postgres)
        #expect(postgres.host == "db.internal" && postgres.port == 6432 && postgres.database == "plumb")
        #expect(postgres.username == "plumb" && postgres.password == "s@cret" && postgres.sslMode == .require)
        #expect(postgres.timeout == .seconds(4))
        #expect(postgres.description == "plumb@db.internal:6432/plumb", "no password in what is shown")
        #expect(config.nodeName == "web-1" && config.nodeURL == "http://10.0.0.11:9400")
        #expect(ServerConfig().storage.logs == .sqlite && ServerConfig().storage.state == .sqlite)
        #expect(ServerConfig().nodeName.hasSuffix(":9400"))
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
        ("storage:\n  logs: elastic\n", "storage.logs must be sqlite or postgres"),
        ("storage:\n  logs: postgres\n", "storage.postgres.url is required"),
        ("storage:\n  state: mysql\n", "storage.state must be sqlite or postgres"),
        ("storage:\n  state: postgres\n", "storage.state is postgres: storage.postgres.url is required"),
        ("storage:\n  postgres:\n    timeout: 3\n", "storage.postgres.url is required"),
        ("storage:\n  postgres:\n    url: http://db:5432/x\n", "storage.postgres.url: not a postgres:// URL"),
        ("storage:\n  postgres:\n    url: postgres://db:5432/x\n", "storage.postgres.url: the URL names no user"),
        (
            "storage:\n  postgres:\n    url: postgres://u@db/x?sslmode=verify-full\n",
            "storage.postgres.url: sslmode must be"
        ),
        (
            "storage:\n  postgres:\n    url: postgres://u@db/x\n    password_env: PLUMB_TEST_NO_SUCH_VARIABLE\n",
            "PLUMB_TEST_NO_SUCH_VARIABLE is not set"
        ),
        ("storage:\n  postgres:\n    url: postgres://u@db/x\n    timeout: 0\n", "storage.postgres.timeout"),
        ("cluster:\n  node: \"web 1\"\n", "cluster.node"),
        ("cluster:\n  url: 10.0.0.1:9400\n", "cluster.url"),
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
