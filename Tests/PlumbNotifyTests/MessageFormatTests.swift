import Foundation
import PlumbAPI
import PlumbNotify
import Testing

@Suite struct MessageFormatTests {
    @Test func dotStuffingDoublesLeadingDotsAndTerminates() {
        let stuffed = MailMessage.dotStuffed("a\n.b\r\n..c\n.\nd")
        #expect(stuffed == "a\r\n..b\r\n...c\r\n..\r\nd\r\n.\r\n")
    }

    @Test func nonASCIISubjectsAreEncodedWords() throws {
        let subject = "ALARM: \"Durée p99\" — 温度 trop élevée dans la salle des serveurs numéro 7"
        let encoded = MailMessage.encodeHeader(subject)
        let ascii = encoded.unicodeScalars.allSatisfy { $0.isASCII }
        #expect(ascii)
        let words = encoded.split(separator: "\r\n ").map(String.init)
        #expect(words.count > 1)
        #expect(words.allSatisfy { $0.count <= 75 && $0.hasPrefix("=?UTF-8?B?") && $0.hasSuffix("?=") })
        let decoded = try words.map { word -> String in
            let payload = word.dropFirst(10).dropLast(2)
            return String(decoding: try #require(Data(base64Encoded: String(payload))), as: UTF8.self)
        }.joined()
        #expect(decoded == subject)
        #expect(MailMessage.encodeHeader("plain subject") == "plain subject")
    }

    @Test func headersCannotBeInjected() {
        let rendered = MailMessage(
            from: "plumb@example.com", to: ["a@example.com"], subject: "hi\r\nBcc: victim@example.com", text: "x",
            messageID: "1@example.com"
        ).rendered()
        #expect(!rendered.contains("\r\nBcc:"))
    }

    @Test func hmacMatchesRFC4231() {
        // RFC 4231 test case 2.
        let signature = WebhookPayload.signature(body: Data("what do ya want for nothing?".utf8), secret: "Jefe")
        #expect(signature == "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }

    static func alarmMessage(newState: String) -> Outbox.Message {
        let alarm = AlarmMessage(
            alarmName: "api-errors", alarmDescription: "errors", alarmType: "metric", oldState: "OK",
            newState: newState,
            reason: "Threshold Crossed", time: "2026-11-22T10:00:00Z",
            metric: .init(
                namespace: "Plumb/Functions", name: "Errors", dimensions: ["Function": "sentiment.classify"],
                statistic: "Sum", period: 60),
            comparison: "GreaterThanThreshold", threshold: 0, evaluationPeriods: 1, datapointsToAlarm: 1,
            url: "http://x/api/v1/alarms/api-errors")
        let json = String(decoding: try! JSONEncoder().encode(alarm), as: UTF8.self)
        return Outbox.Message(
            id: "m-1", topic: "ops", type: "Notification", subject: "ALARM", message: json,
            attributes: [AlarmMessage.eventAttribute: AlarmMessage.eventValue], createdAt: 1_795_341_600)
    }

    @Test func alertmanagerPayloadIsVersionFour() throws {
        for (state, status) in [("ALARM", "firing"), ("OK", "resolved")] {
            let data = WebhookPayload.alertmanagerWebhook(
                Self.alarmMessage(newState: state), externalURL: "http://plumb:9400")
            let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            #expect(object["version"] as? String == "4")
            #expect(object["status"] as? String == status)
            #expect(object["receiver"] as? String == "ops")
            let alerts = try #require(object["alerts"] as? [[String: Any]])
            #expect(alerts.count == 1)
            let labels = try #require(alerts[0]["labels"] as? [String: String])
            #expect(labels["alertname"] == "api-errors")
            #expect(labels["Function"] == "sentiment.classify")
            #expect((alerts[0]["fingerprint"] as? String)?.count == 16)
            #expect(alerts[0]["generatorURL"] as? String == "http://x/api/v1/alarms/api-errors")
            #expect((alerts[0]["endsAt"] as? String == "0001-01-01T00:00:00Z") == (state == "ALARM"))
        }
    }

    @Test func alarmEmailNamesEverythingOps() {
        let rendered = EmailRenderer.render(Self.alarmMessage(newState: "ALARM"))
        let (text, html) = (rendered.text, rendered.html)
        for needle in [
            "api-errors", "OK → ALARM", "Threshold Crossed", "GreaterThanThreshold 0.0", "Plumb/Functions",
            "Function = sentiment.classify", "http://x/api/v1/alarms/api-errors",
        ] {
            #expect(text.contains(needle), "\(needle)")
        }
        #expect(html.contains("<a href=\"http://x/api/v1/alarms/api-errors\">"))
    }
}
