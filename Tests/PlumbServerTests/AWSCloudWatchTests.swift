import Foundation
import PlumbTesting
import Testing

/// CloudWatch through real boto3 and the real aws CLI, unmodified, against a real `plumb serve`: what they put is
/// what Plumb's own API reads; what is refused carries AWS's code, and a bad signature stores nothing and is
/// audited.
@Suite("AWS API: CloudWatch")
struct AWSCloudWatchTests {
    @Test("boto3 and the aws CLI put, list and read metrics; bad input and bad signatures get AWS's codes")
    func cloudWatch() async throws {
        let root = TemporaryDirectory("plumb-aws-cw")
        defer { root.remove() }
        let data = root.path + "/data"
        let server = try ServerProcess(dataDirectory: data)
        defer { server.kill(signal: SIGKILL) }
        try await server.waitReady()

        // The admin's key, written for the SDKs (0600).
        let credentials = data + "/aws.credentials"
        let attributes = try FileManager.default.attributesOfItem(atPath: credentials)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        let profile = try String(contentsOfFile: credentials, encoding: .utf8)
        #expect(profile.hasPrefix("[plumb]\naws_access_key_id = PKIA"))

        let result = try await Python.peer(
            "aws_cloudwatch.py", [server.baseURL, credentials, data + "/aws.config"], timeout: .seconds(120))
        #expect(
            result["list"] as? [String] == ["Bulk", "Fast", "Latency|Service=api", "Requests", "Sizes"],
            "\(result["list"] ?? "")")
        #expect(result["list_by_dimension"] as? [String] == ["Latency"])
        let stats = try #require((result["stats"] as? [[String: Any]])?.first)
        #expect(stats["SampleCount"] as? Double == 2)
        #expect(stats["Average"] as? Double == 25)
        #expect(stats["Maximum"] as? Double == 37.5)
        #expect(stats["Unit"] as? String == "Milliseconds")
        #expect(result["stats_label"] as? String == "Latency")
        let statisticSet = try #require((result["statistic_set"] as? [[String: Any]])?.first)
        #expect(statisticSet["Sum"] as? Double == 10)
        #expect(statisticSet["SampleCount"] as? Double == 4)
        let percentile = try #require((result["percentile"] as? [[String: Any]])?.first)
        let p50 = try #require(percentile["p50"] as? Double)
        #expect(p50 >= 2 && p50 <= 3, "p50 of 1, 2, 3, 3: \(p50)")

        let errors = try #require(result["errors"] as? [String: Any])
        func code(_ name: String) -> String? { (errors[name] as? [String: Any])?["code"] as? String }
        func status(_ name: String) -> Int? { (errors[name] as? [String: Any])?["status"] as? Int }
        #expect(code("too_many_dimensions") == "InvalidParameterValue", "\(errors["too_many_dimensions"] ?? "")")
        #expect(code("over_limit_batch") == "InvalidParameterValue", "\(errors["over_limit_batch"] ?? "")")
        #expect(code("both_statistics") == "InvalidParameterCombination")
        #expect(code("bad_period") == "InvalidParameterValue")
        #expect(code("aws_namespace") == "InvalidParameterValue")
        #expect(code("empty_name") == "MissingParameter", "\(errors["empty_name"] ?? "")")
        #expect(code("bad_signature") == "SignatureDoesNotMatch")
        #expect(status("bad_signature") == 403)
        #expect(code("unknown_key") == "InvalidClientTokenId")
        #expect(status("unknown_key") == 403)

        // Through Plumb's own API: the same series, and nothing from the refused request.
        let (listed, body) = try await HTTP.request(
            "GET", server.baseURL + "/api/v1/metrics?namespace=Boto/Test", token: server.token)
        #expect(listed == 200)
        let names = Set(
            ((try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])?["metrics"] as? [[String: Any]]
                ?? [])
                .compactMap { $0["name"] as? String })
        #expect(names == ["Bulk", "Fast", "Latency", "Requests", "Sizes"])
        // The large batch came gzipped (botocore compresses a PutMetricData body over 10 KB): all 600 stored.
        #expect(result["bulk_compressed"] as? Bool == true)
        let now = Int64(Date().timeIntervalSince1970)
        let (_, bulk) = try await HTTP.request(
            "GET",
            server.baseURL
                + "/api/v1/metrics/statistics?namespace=Boto/Test&name=Bulk&statistics=SampleCount&period=3600&start=\(now - 7_200)&end=\(now + 60)",
            token: server.token)
        let points =
            (try JSONSerialization.jsonObject(with: Data(bulk)) as? [String: Any])?["datapoints"] as? [[String: Any]]
            ?? []
        #expect(points.reduce(0.0) { $0 + ($1["SampleCount"] as? Double ?? 0) } == 600)
        let (_, refused) = try await HTTP.request(
            "GET", server.baseURL + "/api/v1/metrics?namespace=Boto/Refused", token: server.token)
        #expect(!String(decoding: refused, as: UTF8.self).contains("Boto/Refused"))

        // The aws CLI, unmodified.
        let environment = [
            "AWS_SHARED_CREDENTIALS_FILE": credentials, "AWS_CONFIG_FILE": data + "/aws.config",
        ]
        let put = try await Subprocess.run(
            "/usr/bin/env",
            [
                "python3", "-m", "awscli", "--profile", "plumb", "--endpoint-url", server.baseURL, "cloudwatch",
                "put-metric-data", "--namespace", "Cli/Test", "--metric-name", "Hits", "--value", "3",
                "--dimensions", "Site=a",
            ], separateErrors: true, environment: environment, timeout: .seconds(60))
        #expect(put.status == 0, "\(put.errors)")
        let list = try await Subprocess.run(
            "/usr/bin/env",
            [
                "python3", "-m", "awscli", "--profile", "plumb", "--endpoint-url", server.baseURL, "cloudwatch",
                "list-metrics", "--namespace", "Cli/Test",
            ], separateErrors: true, environment: environment, timeout: .seconds(60))
        #expect(list.status == 0, "\(list.errors)")
        let metrics =
            (try JSONSerialization.jsonObject(with: list.output) as? [String: Any])?["Metrics"] as? [[String: Any]]
        #expect(metrics?.first?["MetricName"] as? String == "Hits")

        // The refusals are in the audit trail, with the key they claimed.
        try await waitUntil("the refused requests to be audited", timeout: .seconds(10)) {
            let (_, audit) = try await HTTP.request(
                "GET", server.baseURL + "/api/v1/logs/%2Fplumb%2Faudit?limit=100", token: server.token)
            let text = String(decoding: audit, as: UTF8.self)
            return text.contains("SignatureDoesNotMatch") && text.contains("PKIAUNKNOWNKEY000000")
        }
    }
}
