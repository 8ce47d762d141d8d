import Foundation
import PlumbTesting
import Testing

/// CloudWatch's other two wire protocols, each through botocore's own serializer and parser (its CloudWatch model
/// with only that protocol listed): the Query protocol older clients send, and Smithy RPC v2 CBOR, which the Java and
/// Go SDKs send — plus a raw CBOR request written with cbor2. What they put is what Plumb's own API reads.
@Suite("AWS API: CloudWatch's Query and RPC v2 CBOR protocols")
struct AWSProtocolsTests {
    @Test(
        "botocore over Query and over RPC v2 CBOR: metrics, statistics, metric math, alarms and AWS's errors",
        arguments: ["query", "smithy-rpc-v2-cbor"])
    func protocols(protocolName: String) async throws {
        try await AWSPeerRun.run("aws_protocols.py", arguments: [protocolName], timeout: .seconds(120)) {
            server, result in
            #expect(result["protocol"] as? String == protocolName)
            // The requests were in the protocol under test, on the wire.
            let put = try #require(result["put"] as? [String: Any])
            if protocolName == "query" {
                #expect(put["path"] as? String == "/")
                #expect((put["content_type"] as? String)?.hasPrefix("application/x-www-form-urlencoded") == true)
            } else {
                #expect(put["path"] as? String == "/service/GraniteServiceVersion20100801/operation/PutMetricData")
                #expect(put["content_type"] as? String == "application/cbor")
            }

            // A dimension value that looks like a number stays text; values, counts and statistic sets are numbers.
            let listed = try #require(result["list"] as? [[Any]])
            #expect(listed.count == 1)
            #expect(listed.first?.first as? String == "Latency")
            #expect((listed.first?.last as? [[String: String]]) == [["Name": "Service", "Value": "42"]])
            let stats = try #require((result["stats"] as? [[String: Any]])?.first)
            #expect(stats["SampleCount"] as? Double == 2)
            #expect(stats["Average"] as? Double == 25)
            #expect(stats["Maximum"] as? Double == 37.5)
            #expect(stats["Unit"] as? String == "Milliseconds")
            #expect(stats["TimestampIsTime"] as? Bool == true)
            let p50 = try #require(((result["p50"] as? [[String: Double]])?.first)?["p50"])
            #expect(p50 >= 2 && p50 <= 3, "p50 of 1, 2, 3, 3: \(p50)")
            // Metric math over a hidden query: the statistic set's sum (10) doubled.
            let metricData = try #require(result["data"] as? [[String: Any]])
            #expect(metricData.count == 1)
            #expect(metricData.first?["Id"] as? String == "doubled")
            #expect(metricData.first?["Values"] as? [Double] == [20])
            #expect(metricData.first?["TimestampsAreTimes"] as? Bool == true)

            // The alarm as described (integers, a double, a boolean, a time, text dimensions), then set and read back.
            let alarm = try #require((result["alarm"] as? [[String: Any]])?.first)
            #expect(alarm["Period"] as? Int == 60)
            #expect(alarm["EvaluationPeriods"] as? Int == 2)
            #expect(alarm["Threshold"] as? Double == 30.5)
            #expect(alarm["ActionsEnabled"] as? Bool == true)
            #expect(alarm["UpdatedIsTime"] as? Bool == true)
            #expect((alarm["Dimensions"] as? [[String: String]]) == [["Name": "Service", "Value": "42"]])
            // An empty list (Query sends `AlarmNames=`) is an empty list.
            #expect(result["empty_list_call"] as? Int == 1)
            let history = try #require(result["history"] as? [[String: Any]])
            // From INSUFFICIENT_DATA, or from ALARM when a minute's evaluation of the data put ran in between.
            let summary = history.first?["Summary"] as? String ?? ""
            #expect(
                ["Alarm updated from INSUFFICIENT_DATA to OK", "Alarm updated from ALARM to OK"].contains(summary),
                "\(summary)")
            #expect(history.first?["TimestampIsTime"] as? Bool == true)
            let (alarmStatus, _) = try await HTTP.request(
                "GET", server.baseURL + "/api/v1/alarms/proto-\(protocolName)", token: server.token)
            #expect(alarmStatus == 404, "deleted through \(protocolName)")

            // AWS's codes and statuses, in the protocol's error form.
            let refused = try #require(result["refused"] as? [String: [String: Any]])
            #expect(refused["unknown_alarm"]?["code"] as? String == "ResourceNotFound")
            #expect(refused["unknown_alarm"]?["status"] as? Int == 404)
            #expect(refused["aws_namespace"]?["code"] as? String == "InvalidParameterValue")
            #expect(refused["stats_and_extended"]?["code"] as? String == "InvalidParameterCombination")
            #expect(refused["bad_signature"]?["code"] as? String == "SignatureDoesNotMatch")
            #expect(refused["bad_signature"]?["status"] as? Int == 403)

            // Through Plumb's own API: the same series.
            let (_, body) = try await HTTP.request(
                "GET", server.baseURL + "/api/v1/metrics?namespace=Proto/\(protocolName)", token: server.token)
            let names = Set(
                ((try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])?["metrics"] as? [[String: Any]]
                    ?? [])
                    .compactMap { $0["name"] as? String })
            let expected: Set<String> = ["Latency", "Requests", "Sizes"]
            #expect(names == (protocolName == "query" ? expected : expected.union(["Raw"])), "\(names)")

            if protocolName == "smithy-rpc-v2-cbor" {
                // cbor2's own request: a tag-1 time and a tag-0 (RFC 3339) time, both stored; answered in CBOR.
                let raw = try #require(result["raw_put"] as? [String: Any])
                #expect(raw["status"] as? Int == 200)
                #expect(raw["smithy_protocol"] as? String == "rpc-v2-cbor")
                let rawStats = try #require(result["raw_stats"] as? [String: Any])
                let point = try #require((rawStats["points"] as? [[String: Any]])?.first)
                #expect(point["Sum"] as? Double == 10)
                #expect(point["SampleCount"] as? Double == 2)
                #expect(point["TimestampTagged"] as? Bool == true)
                let rawRefused = try #require(result["raw_refused"] as? [String: Any])
                #expect(rawRefused["status"] as? Int == 400)
                #expect(rawRefused["query_error"] as? String == "MissingParameter;Sender")
            }
        }
    }
}
