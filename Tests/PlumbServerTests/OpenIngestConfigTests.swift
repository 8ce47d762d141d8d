import Foundation
import PlumbServer
import PlumbTesting
import Testing

/// The `otlp:` and `scrape_configs:` sections: what deploy/plumb.yaml documents parses, and a bad value is refused at
/// start naming its key.
@Suite struct OpenIngestConfigTests {
    @Test func documentedSectionsParse() throws {
        let otlp = try ListenerConfigTests.load(ListenerConfigTests.documentedSection("otlp")).otlp
        #expect(otlp.listen == "0.0.0.0:4318")
        #expect(otlp.logGroup == "{service.name}" && otlp.logStream == "{service.instance.id}")
        #expect(otlp.promoteResourceAttributes == ["deployment.environment"])
        let jobs = try ListenerConfigTests.load(ListenerConfigTests.documentedSection("scrape_configs")).scrapeConfigs
        #expect(jobs.count == 1)
        #expect(jobs.first?.jobName == "node" && jobs.first?.scrapeInterval == 15)
        #expect(jobs.first?.staticConfigs.first?.labels == ["env": "prod"])
        #expect(ServerConfig().otlp.listen == nil && ServerConfig().scrapeConfigs.isEmpty)
    }

    @Test(arguments: [
        ("otlp:\n  listen: nowhere\n", "otlp.listen"),
        ("otlp:\n  log_group: /plumb/{service.name}\n", "/plumb/"),
        ("otlp:\n  log_stream: \"{service.name\"\n", "unclosed"),
        ("scrape_configs:\n  - job_name: a\n    consul_sd_configs: []\n", "scrape_configs[0]: 'consul_sd_configs'"),
        ("scrape_configs:\n  - job_name: a\n  - job_name: a\n", "given twice"),
        ("scrape_configs:\n  - job_name: a\n  - job_name: b\n    scrape_interval: soon\n", "scrape_configs[1]"),
        (
            "scrape_configs:\n  - job_name: a\n    static_configs:\n      - targets: ['http://x:1/metrics']\n",
            "host:port"
        ),
    ])
    func refused(yaml: String, words: String) throws {
        do {
            _ = try ListenerConfigTests.load(yaml)
            Issue.record("accepted: \(yaml)")
        } catch {
            #expect("\(error)".contains(words), "\(error)")
        }
    }
}
