import Foundation
import PlumbAuth
import Testing

/// SigV4 verification against signatures botocore made (the header form and a presigned URL), and the refusals:
/// another secret, a changed body, a stale time, an expired URL, a malformed header.
@Suite("SigV4")
struct SigV4Tests {
    static let secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"

    /// botocore 1.43.11's `SigV4Auth` on a Lambda invoke: an encoded path (`my%3Afn`), encoded query values, a body.
    static func lambdaInvoke(body: String = #"{"key": "value"}"#) -> SigV4.Request {
        SigV4.Request(
            method: "POST", path: "/2015-03-31/functions/my%3Afn/invocations", query: "Qualifier=%24LATEST&a=b%20c",
            headers: [
                ("Content-Type", "application/json"), ("X-Amz-Invocation-Type", "Event"),
                ("X-Amz-Date", "20261207T103555Z"), ("host", "127.0.0.1:9400"),
                (
                    "Authorization",
                    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261207/us-east-1/lambda/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-invocation-type, Signature=850bcc69d2f234c5210c9022e04593490fdd276f079f9aedd048b3757a0faec6"
                ),
            ], body: Array(body.utf8))
    }

    static let signedAt = SigV4.parseTime("20261207T103555Z")!

    @Test("a botocore signature verifies; another secret, another body, another time are refused")
    func headerForm() throws {
        let request = Self.lambdaInvoke()
        let credential = try SigV4.credential(of: request)
        #expect(credential.accessKey == "AKIDEXAMPLE")
        #expect(credential.service == "lambda")
        #expect(credential.region == "us-east-1")
        try SigV4.verify(request, credential: credential, secret: Self.secret, now: Self.signedAt + 60)
        #expect(throws: SigV4.Failure.mismatch) {
            try SigV4.verify(request, credential: credential, secret: "another", now: Self.signedAt)
        }
        #expect(throws: SigV4.Failure.mismatch) {
            try SigV4.verify(
                Self.lambdaInvoke(body: #"{"key": "other"}"#), credential: credential, secret: Self.secret,
                now: Self.signedAt)
        }
        // 15 minutes either way, as AWS.
        try SigV4.verify(request, credential: credential, secret: Self.secret, now: Self.signedAt - 900)
        do {
            try SigV4.verify(request, credential: credential, secret: Self.secret, now: Self.signedAt + 901)
            Issue.record("a request signed 15 minutes and a second ago was accepted")
        } catch {
            guard case .expired = error else { throw error }
        }
    }

    /// botocore's `SigV4QueryAuth` (300 s): every parameter in the URL.
    @Test("a presigned URL verifies until it expires")
    func presigned() throws {
        let request = SigV4.Request(
            method: "GET", path: "/",
            query:
                "Action=ListMetrics&Version=2010-08-01&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20261207%2Fus-east-1%2Fmonitoring%2Faws4_request&X-Amz-Date=20261207T103549Z&X-Amz-Expires=300&X-Amz-SignedHeaders=host&X-Amz-Signature=59425ebabe10131a590b2c6dce800df40c375dce42479da4dc5e29ef05003d34",
            headers: [("Host", "127.0.0.1:9400")], body: [])
        let credential = try SigV4.credential(of: request)
        #expect(credential.expires == 300)
        let signed = SigV4.parseTime("20261207T103549Z")!
        try SigV4.verify(request, credential: credential, secret: Self.secret, now: signed + 299)
        do {
            try SigV4.verify(request, credential: credential, secret: Self.secret, now: signed + 301)
            Issue.record("an expired presigned URL was accepted")
        } catch {
            guard case .expired = error else { throw error }
        }
    }

    @Test("no signature, or one that cannot be read, is named as such")
    func malformed() throws {
        #expect(throws: SigV4.Failure.missing) {
            _ = try SigV4.credential(of: SigV4.Request(method: "GET", path: "/", query: "", headers: [], body: []))
        }
        for authorization in [
            "Bearer abc", "AWS4-HMAC-SHA256 Credential=AK/20261207/us-east-1/monitoring/aws4_request",
            "AWS4-HMAC-SHA256 Credential=AK/2026/us-east-1/monitoring/aws4_request, SignedHeaders=host, Signature=00",
            "AWS4-HMAC-SHA256 Credential=AK/20261207/us-east-1/monitoring/aws4_request, SignedHeaders=x-amz-date, Signature="
                + String(repeating: "0", count: 64),
        ] {
            let request = SigV4.Request(
                method: "POST", path: "/", query: "",
                headers: [("Authorization", authorization), ("X-Amz-Date", "20261207T103549Z")], body: [])
            do {
                _ = try SigV4.credential(of: request)
                Issue.record("accepted: \(authorization)")
            } catch {
                guard case .malformed = error else { throw error }
            }
        }
        #expect(SigV4.parseTime("20261207T103549") == nil)
        #expect(SigV4.parseTime("20261307T103549Z") == nil)
        #expect(SigV4.format(Self.signedAt) == "20261207T103555Z")
    }
}
