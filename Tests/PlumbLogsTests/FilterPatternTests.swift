import PlumbLogs
import Testing

/// Table-driven filter-pattern cases across the three kinds, including CloudWatch Logs' documented examples;
/// each case names exactly which events of its corpus match.
@Suite struct FilterPatternTests {
    struct Case: CustomStringConvertible, Sendable {
        let pattern: String
        let matches: Set<Int>
        var description: String { pattern }
        init(_ pattern: String, _ matches: Set<Int>) {
            self.pattern = pattern
            self.matches = matches
        }
    }

    static let textEvents = [
        "[ERROR 400] BAD REQUEST",
        "[ERROR 401] UNAUTHORIZED REQUEST",
        "[ERROR 419] MISSING ARGUMENTS",
        "[ERROR 420] INVALID ARGUMENTS",
        "[WARN] Exiting with code 0",
        "INFO request served in 12 ms",
        "ERROR Exiting: Failed to process request",
    ]

    static let termCases: [Case] = [
        Case("ERROR", [0, 1, 2, 3, 6]),
        Case("ERROR ARGUMENTS", [2, 3]),
        Case("?ERROR ?WARN", [0, 1, 2, 3, 4, 6]),
        Case("?419 ?420", [2, 3]),
        Case("ERROR -Exiting", [0, 1, 2, 3]),
        Case(#""Failed to process""#, [6]),
        Case(#""failed to process""#, []),
        Case("", [0, 1, 2, 3, 4, 5, 6]),
        Case(#"" ""#, [0, 1, 2, 3, 4, 5, 6]),
        Case("REQUEST -BAD", [1]),
        Case("-ERROR", [4, 5]),
        Case("?WARN ?INFO -Exiting", [5]),
        Case("ERROR ?419 ?420 ?401", [1, 2, 3]),
        Case("ms", [5]),
        Case("NOTPRESENT", []),
        Case(#""[ERROR""#, [0, 1, 2, 3]),
        Case(#"Exiting "code 0""#, [4]),
    ]

    static let jsonEvents = [
        #"{"eventType":"UpdateTrail","sourceIPAddress":"123.123.123.123","arrayKey":["value","another value"],"objectList":[{"name":"a","id":1},{"name":"b","id":2}],"SomeObject":null,"ThisFlag":true,"bandwidth":80,"latency":40,"refreshRate":60,"user":{"id":1,"email":"John.Doe@example.com"},"users":[{"id":2,"email":"John.Doe@example.com"}],"actions":["GET","PUT","DELETE"],"coordinates":[[0,1],[2,3]]}"#,
        #"{"eventType":"CreateTrail","sourceIPAddress":"10.0.0.1","bandwidth":50,"latency":75,"refreshRate":30,"ThisFlag":false,"errorCode":"AccessDenied","user":{"id":2,"email":"John.Stiles@example.com"},"actions":["GET","POST","GET"]}"#,
        #"{"eventType":"UpdateTrail","latency":"fast","SomeObject":{"a":1}}"#,
        "plain text UpdateTrail",
        "[1, 2, 3]",
    ]

    static let jsonCases: [Case] = [
        Case(#"{ $.eventType = "UpdateTrail" }"#, [0, 2]),
        Case("{ $.eventType = UpdateTrail }", [0, 2]),
        Case(#"{ $.eventType = "*Trail" }"#, [0, 1, 2]),
        Case("{ $.sourceIPAddress != 123.123.* }", [1]),
        Case(#"{ $.arrayKey[0] = "value" }"#, [0]),
        Case(#"{ $.arrayKey[1] = "another*" }"#, [0]),
        Case("{ $.objectList[1].id = 2 }", [0]),
        Case("{ $.bandwidth > 75 }", [0]),
        Case("{ $.latency < 50 }", [0]),
        Case("{ $.latency >= 75 }", [1]),
        Case("{ $.refreshRate = 60 }", [0]),
        Case("{ $.refreshRate != 60 }", [1]),
        Case(#"{ $.errorCode = "AccessDenied" }"#, [1]),
        Case("{ $.SomeObject IS NULL }", [0]),
        Case("{ $.SomeObject NOT EXISTS }", [1]),
        Case("{ $.ThisFlag IS TRUE }", [0]),
        Case("{ $.ThisFlag IS FALSE }", [1]),
        Case(#"{ ($.user.id = 1) && ($.users[0].email = "John.Doe@example.com") }"#, [0]),
        Case(#"{ ($.user.id = 2 && $.users[0].email = "John.Doe@example.com") || $.actions[2] = "GET" }"#, [1]),
        Case(
            #"{ $.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = "nonmatch" && $.actions[2] = "nonmatch" }"#,
            [1]),
        Case("{ $.coordinates[1][0] = 2 }", [0]),
        Case(#"{ $.nothere = "x" }"#, []),
        Case("{ $.user.id = 1 || $.user.id = 2 }", [0, 1]),
        Case(#"{ $.eventType = "UpdateTrail" && $.latency = "fast" }"#, [2]),
        Case("{ $.latency = fast }", [2]),
        Case("{$.bandwidth<=50}", [1]),
    ]

    static let delimitedEvents = [
        #"127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /apache_pb.gif HTTP/1.0" 200 1534"#,
        #"127.0.0.1 - frank [10/Oct/2000:13:35:22 -0700] "GET /apache_pb.gif HTTP/1.0" 500 5324"#,
        #"127.0.0.1 - frank [10/Oct/2000:13:50:35 -0700] "GET /apache_pb.gif HTTP/1.0" 200 4355"#,
        #"10.0.0.7 - alice [10/Oct/2000:14:01:00 -0700] "POST /login HTTP/1.1" 404 0"#,
        #"10.0.0.8 - bob [10/Oct/2000:14:02:00 -0700] "GET /index.html HTTP/1.1" 403 128 extra"#,
    ]

    static let delimitedCases: [Case] = [
        Case("[ip, user, username, timestamp, request, status_code, bytes]", [0, 1, 2, 3]),
        Case("[ip, user, username, timestamp, request, status_code = 200, bytes]", [0, 2]),
        Case("[ip, user, ..., status_code = 4*, bytes]", [3]),
        Case("[..., status_code = 4*, bytes, extra]", [4]),
        Case("[ip, ..., status_code >= 400 && status_code < 500, bytes]", [3]),
        Case(#"[ip, user, username, timestamp, request = "*login*", status_code, bytes]"#, [3]),
        Case("[ip = 127.0.0.1, ...]", [0, 1, 2]),
        Case("[ip != 127.0.0.1, ...]", [3, 4]),
        Case("[..., status_code = 500 || status_code = 404, bytes]", [1, 3]),
        Case("[..., bytes > 5000]", [1]),
        Case("[..., bytes = 0]", [3]),
        Case("[..., username = frank, timestamp, request, status_code, bytes]", [0, 1, 2]),
        Case("[ip, user, username, timestamp, request, status_code, bytes, extra]", [4]),
        Case("[a, b]", []),
        Case("[...]", [0, 1, 2, 3, 4]),
        Case(#"[..., timestamp = "*13:*", request, status_code, bytes]"#, [0, 1, 2]),
        Case("[ip, user, username = a* || username = b*, ...]", [3, 4]),
    ]

    func check(_ c: Case, _ events: [String]) throws {
        let pattern = try FilterPattern(c.pattern)
        let matched = Set(events.indices.filter { pattern.matches(events[$0]) })
        #expect(matched == c.matches, "\(c.pattern)")
    }

    @Test(arguments: termCases)
    func terms(_ c: Case) throws { try check(c, Self.textEvents) }

    @Test(arguments: jsonCases)
    func json(_ c: Case) throws { try check(c, Self.jsonEvents) }

    @Test(arguments: delimitedCases)
    func delimited(_ c: Case) throws { try check(c, Self.delimitedEvents) }

    @Test func delimitedPatternsCaptureFields() throws {
        let pattern = try FilterPattern("[ip, user, username, timestamp, request, status_code, bytes]")
        let captured = try #require(pattern.match(Self.delimitedEvents[0]))
        #expect(captured["bytes"] == "1534")
        #expect(captured["request"] == "GET /apache_pb.gif HTTP/1.0")
        #expect(captured["timestamp"] == "[10/Oct/2000:13:25:15 -0700]")
    }

    @Test(arguments: [
        "[ip, ip]", "{ $.a = }", "{ $.a > abc }", "{ a = 1 }", "[ip, ]", #""unterminated"#, "{ $.a = 1",
        "{ $.a IS MAYBE }",
        "{ ($.a = 1 }", "[status >= x]",
    ])
    func malformedPatternsAreRefused(_ text: String) {
        #expect(throws: FilterPatternError.self) { try FilterPattern(text) }
    }
}
