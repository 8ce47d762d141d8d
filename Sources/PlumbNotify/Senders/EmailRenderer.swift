import Foundation
import PlumbAPI

/// Turns a notification into the plain-text and HTML parts of an email. Alarm state changes read like
/// CloudWatch's alarm mails: what changed, why, the threshold, the metric (or a metric-math alarm's expression and
/// its metrics), a chart of the breach as an inline PNG and a signed link to the alarm page.
public enum EmailRenderer {
    public static func render(_ message: Outbox.Message) -> RenderedEmail {
        let subject = message.subject ?? "Notification from Plumb topic \(message.topic)"
        if message.type == "SubscriptionConfirmation" {
            let url = message.attributes["subscribeURL"] ?? ""
            let text =
                "You have chosen to subscribe to the Plumb topic \(message.topic).\n\nTo confirm this subscription, open:\n\(url)\n\nIf you did not ask for this, ignore this message; nothing will be sent to you."
            let html = page(
                "Confirm your subscription",
                "<p>You have chosen to subscribe to the Plumb topic <b>\(escape(message.topic))</b>.</p><p><a href=\"\(escape(url))\">Confirm the subscription</a></p><p>If you did not ask for this, ignore this message; nothing will be sent to you.</p>"
            )
            return RenderedEmail(subject: subject, text: text, html: html)
        }
        guard message.attributes[AlarmMessage.eventAttribute] == AlarmMessage.eventValue,
            let alarm = try? JSONDecoder().decode(AlarmMessage.self, from: Data(message.message.utf8))
        else {
            return RenderedEmail(
                subject: subject,
                text: message.message + "\n\n-- \nSent by Plumb, topic \(message.topic), message \(message.id)\n",
                html: page(
                    subject,
                    "<pre>\(escape(message.message))</pre><p class=\"foot\">Sent by Plumb, topic \(escape(message.topic)), message \(escape(message.id))</p>"
                ))
        }
        var rows: [(String, String)] = [
            ("Name", alarm.alarmName),
            ("Description", alarm.alarmDescription ?? "—"),
            ("State change", "\(alarm.oldState) → \(alarm.newState)"),
            ("Reason for state change", alarm.reason),
            ("Timestamp", alarm.time),
        ]
        if let rule = alarm.rule { rows.append(("Rule", rule)) }
        let threshold = alarm.thresholdSentence
        let metricRows = alarm.metricRows
        let queryRows = alarm.queryRows
        let chart = AlarmChart(alarm)
        var images: [InlineImage] = []
        if let chart, let png = try? chart.png() {
            images.append(
                InlineImage(
                    contentID: "chart.\(message.id)@plumb", contentType: "image/png", filename: "chart.png", data: png))
        }

        var text =
            "Your Plumb alarm \"\(alarm.alarmName)\" has entered the \(alarm.newState) state, because \"\(alarm.reason)\" at \(alarm.time).\n\nAlarm details:\n"
        for (k, v) in rows { text += "- \(k): \(v)\n" }
        if let threshold { text += "\nThreshold:\n- \(threshold)\n" }
        if !metricRows.isEmpty {
            text += "\nMonitored metric:\n"
            for (k, v) in metricRows { text += "- \(k): \(v)\n" }
        }
        if !queryRows.isEmpty {
            text += "\nMetric math (periods of \(alarm.period ?? 0) seconds):\n"
            for (id, v) in queryRows { text += "- \(id): \(v)\n" }
        }
        if let chart {
            let evaluated = chart.points.filter(\.evaluated).map { p in
                "\(ChartAxis.timeLabel(p.timestamp, period: 1, span: 0)) "
                    + (p.value.map { ChartAxis.plain($0) + (p.breaching ? " (breaching)" : "") } ?? "no data")
            }
            text += "\nDatapoints the evaluation read (UTC, oldest first): \(evaluated.joined(separator: ", "))\n"
        }
        if let url = alarm.url {
            text += "\nView this alarm: \(url)\n"
            if let expires = alarm.urlExpires {
                text += "(a read-only page; the link works without signing in until \(expires))\n"
            }
        }
        text += "\n-- \nSent by Plumb, topic \(message.topic), message \(message.id)\n"

        let color = alarm.newState == "ALARM" ? "#c0392b" : alarm.newState == "OK" ? "#27ae60" : "#7f8c8d"
        var body = "<h2 style=\"color:\(color)\">\(escape(alarm.newState)): \(escape(alarm.alarmName))</h2>"
        body += "<p>\(escape(alarm.reason))</p>"
        if let chart, let image = images.first {
            body +=
                "<p><img src=\"cid:\(escape(image.safeContentID))\" width=\"\(Int(AlarmChart.width))\" height=\"\(Int(AlarmChart.height))\""
            body += " alt=\"\(escape(chart.summary))\" style=\"max-width:100%;height:auto;border:1px solid #ddd\"></p>"
            body += "<p class=\"foot\">\(escape(AlarmChart.legend(threshold: chart.threshold)))</p>"
        }
        body += table("Alarm details", rows)
        if let threshold { body += "<h3>Threshold</h3><p>\(escape(threshold))</p>" }
        if !metricRows.isEmpty { body += table("Monitored metric", metricRows) }
        if !queryRows.isEmpty { body += table("Metric math (periods of \(alarm.period ?? 0) seconds)", queryRows) }
        if let url = alarm.url {
            body += "<p><a href=\"\(escape(url))\">View this alarm</a>"
            if let expires = alarm.urlExpires {
                body +=
                    " <span class=\"foot\">(read-only; the link works without signing in until \(escape(expires)))</span>"
            }
            body += "</p>"
        }
        body += "<p class=\"foot\">Sent by Plumb, topic \(escape(message.topic)), message \(escape(message.id))</p>"
        return RenderedEmail(subject: subject, text: text, html: page(subject, body), inlineImages: images)
    }

    public static func table(_ title: String, _ rows: [(String, String)]) -> String {
        "<h3>\(escape(title))</h3><table>"
            + rows.map { "<tr><th>\(escape($0.0))</th><td>\(escape($0.1))</td></tr>" }.joined() + "</table>"
    }

    public static func page(_ title: String, _ body: String) -> String {
        """
        <!DOCTYPE html><html><head><meta charset="utf-8"><title>\(escape(title))</title>
        <style>body{font-family:sans-serif;max-width:720px}th{text-align:left;padding-right:1em;vertical-align:top}.foot{color:#888;font-size:small}</style>
        </head><body>\(body)</body></html>
        """
    }

    public static func escape(_ text: String) -> String {
        var out = ""
        for c in text {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(c)
            }
        }
        return out
    }
}
