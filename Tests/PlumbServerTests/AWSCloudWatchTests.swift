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

        // GetMetricData: the hidden query is not returned; the expression divides the two sums (50 / 10).
        let metricData = try #require(result["metric_data"] as? [String: [Any]])
        #expect(Set(metricData.keys) == ["req", "ratio"])
        #expect(metricData["ratio"]?.first as? String == "latency per request")
        #expect(metricData["ratio"]?.last as? Double == 5)
        #expect(metricData["req"]?.last as? Double == 10)
        #expect(result["paged_values"] as? [Double] == [4, 3, 2, 1, 0], "\(result["paged_values"] ?? "")")
        #expect(result["pages"] as? Int == 3)
        // Two periods in one request: five one-minute maxima (0 to 4), their sum over five minutes, and twice it.
        let mixed = try #require(result["mixed"] as? [String: [Double]])
        #expect(mixed["minute"] == [5, 10], "\(mixed)")
        #expect(mixed["five"]?.last == 10 && mixed["twice"]?.last == 20, "\(mixed)")
        #expect(result["mixed_order"] as? [String] == ["minute", "five", "twice"])

        let errors = try #require(result["errors"] as? [String: Any])
        func code(_ name: String) -> String? { (errors[name] as? [String: Any])?["code"] as? String }
        #expect(code("mixed_periods") == "InvalidParameterValue")
        #expect(code("bad_expression") == "InvalidParameterValue")
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
        #expect(names == ["Bulk", "Fast", "Latency", "Paged", "Requests", "Sizes"])
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

        // The aws CLI, unmodified: metrics, an alarm, a log group.
        let cli = AWSCLI(server: server, data: data)
        _ = try await cli.run(
            "cloudwatch", "put-metric-data", "--namespace", "Cli/Test", "--metric-name", "Hits", "--value", "3",
            "--dimensions", "Site=a")
        let metrics =
            try await cli.run("cloudwatch", "list-metrics", "--namespace", "Cli/Test")["Metrics"] as? [[String: Any]]
        #expect(metrics?.first?["MetricName"] as? String == "Hits")
        _ = try await cli.run(
            "cloudwatch", "put-metric-alarm", "--alarm-name", "cli-hits", "--namespace", "Cli/Test", "--metric-name",
            "Hits", "--dimensions", "Name=Site,Value=a", "--statistic", "Sum", "--period", "60",
            "--evaluation-periods", "1", "--threshold", "10", "--comparison-operator", "GreaterThanThreshold")
        let alarms = try await cli.run("cloudwatch", "describe-alarms", "--alarm-names", "cli-hits")["MetricAlarms"]
        #expect((alarms as? [[String: Any]])?.first?["Threshold"] as? Double == 10)
        let (alarmStatus, _) = try await HTTP.request(
            "GET", server.baseURL + "/api/v1/alarms/cli-hits", token: server.token)
        #expect(alarmStatus == 200)
        _ = try await cli.run("cloudwatch", "delete-alarms", "--alarm-names", "cli-hits")
        _ = try await cli.run("logs", "create-log-group", "--log-group-name", "/cli/app")
        _ = try await cli.run("logs", "create-log-stream", "--log-group-name", "/cli/app", "--log-stream-name", "s")
        _ = try await cli.run(
            "logs", "put-log-events", "--log-group-name", "/cli/app", "--log-stream-name", "s", "--log-events",
            "timestamp=\(Int64(Date().timeIntervalSince1970 * 1_000)),message=hello from the aws CLI")
        let found = try await cli.run(
            "logs", "filter-log-events", "--log-group-name", "/cli/app", "--filter-pattern", "hello")
        #expect((found["events"] as? [[String: Any]])?.first?["message"] as? String == "hello from the aws CLI")

        // The refusals are in the audit trail, with the key they claimed.
        try await waitUntil("the refused requests to be audited", timeout: .seconds(10)) {
            let (_, audit) = try await HTTP.request(
                "GET", server.baseURL + "/api/v1/logs/%2Fplumb%2Faudit?limit=100", token: server.token)
            let text = String(decoding: audit, as: UTF8.self)
            return text.contains("SignatureDoesNotMatch") && text.contains("PKIAUNKNOWNKEY000000")
        }
    }

    /// An IAM user's key, made with `plumb iam access-keys create`: the user's policies decide each operation as
    /// for their API token; a deleted key is refused at once.
    @Test("an IAM user's access key: allowed what the user's policies allow, AccessDenied otherwise, dead once deleted")
    func userKeys() async throws {
        let root = TemporaryDirectory("plumb-aws-keys")
        defer { root.remove() }
        let server = try ServerProcess(dataDirectory: root.path + "/data")
        defer { server.kill(signal: SIGKILL) }
        try await server.waitReady()
        let client = ["--server", server.baseURL, "--token", server.token]
        var keys: [String: (id: String, secret: String)] = [:]
        for (user, group) in [("writer", "monitoring-writer"), ("reader", "read-only")] {
            let made = try await CLI.run(["users", "create", user, "--group", group] + client)
            #expect(made.status == 0, "\(made.output)")
            let created = try await CLI.run(["iam", "access-keys", "create", user] + client)
            #expect(created.status == 0, "\(created.output)")
            // A shared-credentials profile: [user], the id, the secret.
            let lines = created.output.split(separator: "\n").map(String.init)
            #expect(lines.first == "[\(user)]", "\(created.output)")
            func value(_ name: String) -> String {
                lines.first { $0.hasPrefix(name + " = ") }.map { String($0.dropFirst(name.count + 3)) } ?? ""
            }
            keys[user] = (value("aws_access_key_id"), value("aws_secret_access_key"))
        }
        func call(
            _ user: String, _ operation: String, key: (id: String, secret: String)? = nil
        ) async throws
            -> [String: Any]
        {
            let key = try #require(key ?? keys[user])
            return try await Python.peer("aws_call.py", [server.baseURL, key.id, key.secret, operation, "Keys/Test"])
        }
        #expect(try await call("writer", "put")["ok"] as? Bool == true)
        #expect(try await call("reader", "list")["ok"] as? Bool == true)
        let denied = try await call("reader", "put")
        #expect(denied["code"] as? String == "AccessDenied", "\(denied)")
        #expect((denied["message"] as? String)?.contains("metrics:PutMetricData") == true, "\(denied)")
        // The issue's case: a read-only user describes alarms but may not put one.
        #expect(try await call("reader", "describe-alarms")["ok"] as? Bool == true)
        let alarmDenied = try await call("reader", "put-alarm")
        #expect(alarmDenied["code"] as? String == "AccessDenied", "\(alarmDenied)")
        #expect(try await call("writer", "describe-alarms")["ok"] as? Bool == true)
        // A policy in AWS's action names governs the same operations: `cloudwatch:PutMetricData` allowed on every
        // resource lets a user with no other policy put; an explicit Deny in AWS's names beats an Allow in Plumb's.
        let awsPolicy =
            #"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["cloudwatch:PutMetricData", "cloudwatch:ListMetrics"], "Resource": "*"}]}"#
        let denyPolicy =
            #"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "metrics:*", "Resource": "*"}, {"Effect": "Deny", "Action": "cloudwatch:PutMetricData", "Resource": "*"}]}"#
        // May invoke functions but not an operator-only one (it needs its own action, as through Plumb's API); may
        // subscribe in AWS's names, which do not stand for invoking the function a subscription would run.
        let invokePolicy =
            #"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "functions:InvokeFunction", "Resource": "*"}]}"#
        let subscribePolicy =
            #"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sns:Subscribe", "Resource": "*"}]}"#
        let (topicMade, _) = try await HTTP.request(
            "POST", server.baseURL + "/api/v1/topics", body: Array(#"{"name": "keys"}"#.utf8), token: server.token)
        #expect(topicMade == 201)
        for (name, document) in [
            ("aws-names", awsPolicy), ("aws-deny", denyPolicy), ("invoke", invokePolicy),
            ("subscribe", subscribePolicy),
        ] {
            let (stored, _) = try await HTTP.request(
                "PUT", server.baseURL + "/api/v1/iam/policies/\(name)", body: Array(document.utf8), token: server.token)
            #expect(stored == 204)
        }
        for (user, policy) in [
            ("aws-user", "aws-names"), ("aws-denied", "aws-deny"), ("invoker", "invoke"), ("subscriber", "subscribe"),
        ] {
            let made = try await CLI.run(["users", "create", user] + client)
            #expect(made.status == 0, "\(made.output)")
            let (attached, _) = try await HTTP.request(
                "PUT", server.baseURL + "/api/v1/iam/users/\(user)/policies/\(policy)", token: server.token)
            #expect(attached == 204 || attached == 200)
            let created = try await CLI.run(["iam", "access-keys", "create", user] + client)
            let lines = created.output.split(separator: "\n").map(String.init)
            func value(_ name: String) -> String {
                lines.first { $0.hasPrefix(name + " = ") }.map { String($0.dropFirst(name.count + 3)) } ?? ""
            }
            keys[user] = (value("aws_access_key_id"), value("aws_secret_access_key"))
        }
        #expect(try await call("aws-user", "put")["ok"] as? Bool == true)
        #expect(try await call("aws-user", "list")["ok"] as? Bool == true)
        let awsDenied = try await call("aws-denied", "put")
        #expect(awsDenied["code"] as? String == "AccessDenied", "\(awsDenied)")
        #expect((awsDenied["message"] as? String)?.contains("cloudwatch:PutMetricData") == true, "\(awsDenied)")
        #expect(try await call("aws-denied", "list")["ok"] as? Bool == true)
        func callWith(_ user: String, _ operation: String, _ argument: String) async throws -> [String: Any] {
            let key = try #require(keys[user])
            return try await Python.peer("aws_call.py", [server.baseURL, key.id, key.secret, operation, argument])
        }
        #expect(try await callWith("invoker", "invoke", "sentiment.classify")["ok"] as? Bool == true)
        let adminOnly = try await callWith("invoker", "invoke", "classifier.train")
        #expect(adminOnly["code"] as? String == "AccessDeniedException", "\(adminOnly)")
        let subscribed = try await callWith("subscriber", "subscribe-lambda", "keys:sentiment.classify")
        #expect(subscribed["code"] as? String == "AuthorizationError", "\(subscribed)")
        #expect(try await callWith("invoker", "subscribe-lambda", "keys:sentiment.classify")["code"] != nil)

        // The writer may set retention (monitoring-writer allows logs:PutRetentionPolicy), but not the audit trail's.
        let audit = try await call("writer", "audit-retention")
        #expect(audit["code"] as? String == "AccessDeniedException", "\(audit)")

        // Listed without the secret; deleted, then refused.
        let listed = try await CLI.run(["iam", "access-keys", "list", "writer", "--output", "json"] + client)
        let writer = try #require(keys["writer"])
        #expect(listed.output.contains(writer.id))
        #expect(!listed.output.contains(writer.secret))
        let deleted = try await CLI.run(["iam", "access-keys", "delete", "writer", writer.id] + client)
        #expect(deleted.status == 0, "\(deleted.output)")
        let refused = try await call("writer", "list", key: writer)
        #expect(refused["code"] as? String == "InvalidClientTokenId", "\(refused)")

        // The secret is nowhere in clear in the data directory.
        let reader = try #require(keys["reader"])
        let files = FileManager.default.enumerator(atPath: root.path + "/data")
        while let file = files?.nextObject() as? String {
            guard let data = FileManager.default.contents(atPath: root.path + "/data/" + file) else { continue }
            #expect(data.range(of: Data(reader.secret.utf8)) == nil, "\(file) holds the secret in clear")
        }
        // The writer's put is Plumb's own series.
        let (_, body) = try await HTTP.request(
            "GET", server.baseURL + "/api/v1/metrics?namespace=Keys/Test", token: server.token)
        #expect(String(decoding: body, as: UTF8.self).contains("Keys/Test"))
    }

    /// Alarms through boto3 are Plumb's alarms: put, evaluated on data put through boto3, described, set, their
    /// history read, composed, deleted; Plumb's API sees each step.
    @Test("boto3's alarm operations make, evaluate, describe and delete Plumb's own alarms")
    func alarms() async throws {
        let root = TemporaryDirectory("plumb-aws-alarms")
        defer { root.remove() }
        let data = root.path + "/data"
        let server = try ServerProcess(dataDirectory: data)
        defer { server.kill(signal: SIGKILL) }
        try await server.waitReady()
        let (made, _) = try await HTTP.request(
            "POST", server.baseURL + "/api/v1/topics", body: Array(#"{"name": "ops"}"#.utf8), token: server.token)
        #expect(made == 201 || made == 200)

        let result = try await Python.peer(
            "aws_alarms.py", [server.baseURL, data + "/aws.credentials", data + "/aws.config"],
            timeout: .seconds(150))
        let described = try #require(result["described"] as? [String: Any])
        #expect(described["AlarmArn"] as? String == "arn:aws:cloudwatch:us-east-1:000000000000:alarm:boto-high")
        #expect(described["Statistic"] as? String == "Maximum")
        #expect(described["Period"] as? Int == 10)
        #expect(described["Threshold"] as? Double == 100)
        #expect(described["TreatMissingData"] as? String == "notBreaching")
        #expect(described["AlarmActions"] as? [String] == ["arn:aws:sns:us-east-1:000000000000:ops"])
        #expect(described["StateValue"] as? String == "INSUFFICIENT_DATA")
        #expect(described["AlarmDescription"] as? String == "latency over 100 ms")
        #expect(result["evaluated_state"] as? String == "ALARM", "\(result)")
        #expect(result["math_state"] as? String == "ALARM", "\(result)")
        let math = try #require(result["math_described"] as? [String: Any])
        #expect(math["has_metric_name"] as? Bool == false)
        #expect(math["ActionsEnabled"] as? Bool == true)
        let queries = math["Metrics"] as? [[String: Any]] ?? []
        #expect(queries.map { $0["Id"] as? String } == ["m1", "e1"], "\(math)")
        #expect(queries.last?["Expression"] as? String == "m1 * 2")
        #expect(queries.last?["Label"] as? String == "doubled")
        #expect(queries.first?["ReturnData"] as? Bool == false)
        let stat = queries.first?["MetricStat"] as? [String: Any]
        #expect(stat?["Period"] as? Int == 10)
        #expect(stat?["Stat"] as? String == "Maximum")
        #expect((stat?["Metric"] as? [String: Any])?["MetricName"] as? String == "Latency")
        #expect(result["disabled"] as? Bool == false)
        #expect(result["actions_while_disabled"] as? Int == 0, "\(result)")
        #expect(result["enabled"] as? Bool == true)
        #expect((result["actions_after_enable"] as? Int ?? 0) >= 1, "\(result)")
        #expect(result["for_metric"] as? [String] == ["boto-high"])
        #expect((result["composite"] as? [String: Any])?["AlarmRule"] as? String == "ALARM(boto-high)")
        #expect(result["default_types"] as? [String] == ["boto-high", "boto-math"])
        #expect(result["set_state"] as? [String] == ["OK", "set by boto3"])
        let history = result["history"] as? [String] ?? []
        #expect(history.count >= 2, "\(history)")
        #expect(history.first?.contains("OK") == true, "newest first: \(history)")
        #expect((result["paged"] as? [Any])?.first as? Int == 1)
        #expect((result["paged"] as? [Any])?.last as? Bool == true)
        let errors = try #require(result["errors"] as? [String: Any])
        #expect(errors["both_statistics"] as? String == "InvalidParameterCombination")
        #expect(errors["bad_action"] as? String == "InvalidParameterValue")
        #expect(errors["bad_period"] as? String == "InvalidParameterValue")
        #expect(errors["unknown_set_state"] as? String == "ResourceNotFound")
        #expect(errors["unknown_delete"] as? String == "ResourceNotFound")
        #expect(errors["delete_with_unknown"] as? String == "ResourceNotFound")
        #expect(errors["delete_read_by_composite"] as? String == "InvalidParameterValue")
        #expect(errors["math_with_metric"] as? String == "InvalidParameterCombination")
        #expect(errors["math_two_returned"] as? String == "InvalidParameterValue")
        #expect(errors["math_mixed_periods"] as? String == "InvalidParameterValue")
        #expect(errors["disable_empty"] as? String == "InvalidParameterValue")
        #expect(result["still_there"] as? [String] == ["boto-high"])
        #expect(result["after_delete"] as? [String] == [])

        // Plumb's own API agrees: the alarm is gone.
        let (gone, _) = try await HTTP.request("GET", server.baseURL + "/api/v1/alarms/boto-high", token: server.token)
        #expect(gone == 404)
    }

    /// CloudWatch Logs through boto3 is Plumb's log store: groups and streams made, events put, read per stream and
    /// followed, searched with filter patterns, retention set; `plumb logs` reads the same events.
    @Test("boto3's CloudWatch Logs operations write and read Plumb's own log groups")
    func logs() async throws {
        let root = TemporaryDirectory("plumb-aws-logs")
        defer { root.remove() }
        let data = root.path + "/data"
        let server = try ServerProcess(dataDirectory: data)
        defer { server.kill(signal: SIGKILL) }
        try await server.waitReady()
        let result = try await Python.peer(
            "aws_logs.py", [server.baseURL, data + "/aws.credentials", data + "/aws.config"], timeout: .seconds(120))
        let groups = result["groups"] as? [[Any]] ?? []
        #expect(groups.first?.first as? String == "/boto/app", "\(result)")
        #expect(groups.first?.last as? String == "arn:aws:logs:us-east-1:000000000000:log-group:/boto/app:*")
        #expect(result["streams"] as? [String] == ["web-1", "web-10"])
        #expect(
            result["get_from_head"] as? [String] == [
                "GET /a 200 12", "GET /b 500 40", "POST /c 200 7", "GET /d 503 99",
            ])
        #expect(result["get_latest"] as? [String] == ["POST /c 200 7", "GET /d 503 99"])
        #expect(result["follow_empty"] as? Int == 0)
        #expect(result["follow_new"] as? [String] == ["GET /e 200 3"])
        let filtered = (result["filter"] as? [[String]]) ?? []
        #expect(filtered == [["web-1", "GET /b 500 40"], ["web-10", "GET /z 500 1"]], "\(filtered)")
        #expect(result["filter_fields"] as? [String] == ["GET /b 500 40", "GET /d 503 99"])
        #expect(result["filter_paged"] as? Int == 6)
        #expect(result["retention"] as? Int == 7)
        #expect(
            (result["metric_filters"] as? [[String]]) == [["server-errors", "[method, path, status=5*, ms]", "1"]],
            "\(result["metric_filters"] ?? "")")
        // Two of the three events after the filter are 5xx: the filter's metric, read through CloudWatch, sums 2.
        #expect(result["filter_metric_sum"] as? Double == 2, "\(result["filter_metric_sum"] ?? "")")
        #expect(result["filters_after_delete"] as? Int == 0)
        let errors = try #require(result["errors"] as? [String: Any])
        #expect(errors["exists"] as? String == "ResourceAlreadyExistsException")
        #expect(errors["stream_exists"] as? String == "ResourceAlreadyExistsException")
        #expect(errors["no_stream"] as? String == "ResourceNotFoundException")
        #expect(errors["no_group"] as? String == "ResourceNotFoundException")
        #expect(errors["bad_retention"] as? String == "InvalidParameterException")
        #expect(errors["bad_pattern"] as? String == "InvalidParameterException")
        #expect(errors["platform_group"] as? String == "AccessDeniedException")
        #expect(errors["no_filter"] as? String == "ResourceNotFoundException")
        #expect(errors["bad_filter_value"] as? String == "InvalidParameterException")
        let live = try #require(result["live_tail"] as? [String: Any])
        #expect(live["messages"] as? [String] == ["ERROR live one", "ERROR live two"], "\(live)")
        let liveStart = live["start"] as? [String: Any]
        #expect(liveStart?["logEventFilterPattern"] as? String == "ERROR")
        #expect(
            liveStart?["logGroupIdentifiers"] as? [String] == [
                "arn:aws:logs:us-east-1:000000000000:log-group:/boto/app"
            ])
        #expect(live["sampled"] as? Bool == false)
        #expect(errors["live_unknown_group"] as? String == "ResourceNotFoundException")
        #expect(errors["live_streams_two_groups"] as? String == "InvalidParameterException")
        #expect(result["groups_after_delete"] as? [String] == ["/boto/app"], "\(result)")
        #expect(result["doomed_filters"] as? [String] == [], "\(result)")
        #expect(errors["delete_again"] as? String == "ResourceNotFoundException")
        #expect(errors["delete_audit"] as? String == "AccessDeniedException")
        let (gone, _) = try await HTTP.request(
            "GET", server.baseURL + "/api/v1/logs/%2Fboto%2Fdoomed/streams", token: server.token)
        #expect(gone == 404)

        // Plumb's own API reads the events boto3 put.
        let (status, body) = try await HTTP.request(
            "GET", server.baseURL + "/api/v1/logs/%2Fboto%2Fapp?filter=503", token: server.token)
        #expect(status == 200)
        #expect(String(decoding: body, as: UTF8.self).contains("GET /d 503 99"))
    }
}

/// The real aws CLI (PyPI awscli), run as `python3 -m awscli` with the profile Plumb wrote: each call's JSON answer.
struct AWSCLI {
    let server: ServerProcess
    let data: String

    func run(_ arguments: String..., sourceLocation: SourceLocation = #_sourceLocation) async throws -> [String: Any] {
        let outcome = try await Subprocess.run(
            "/usr/bin/env",
            ["python3", "-m", "awscli", "--profile", "plumb", "--endpoint-url", server.baseURL, "--output", "json"]
                + arguments, separateErrors: true,
            environment: [
                "AWS_SHARED_CREDENTIALS_FILE": data + "/aws.credentials", "AWS_CONFIG_FILE": data + "/aws.config",
            ], timeout: .seconds(60))
        #expect(
            outcome.status == 0, "aws \(arguments.joined(separator: " ")): \(outcome.errors)",
            sourceLocation: sourceLocation)
        guard !outcome.output.isEmpty else { return [:] }
        return (try? JSONSerialization.jsonObject(with: outcome.output) as? [String: Any]) ?? [:]
    }
}
