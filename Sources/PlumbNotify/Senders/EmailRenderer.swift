import Foundation

/// Turns a notification into the plain-text and HTML parts of an email. Alarm state changes read like
/// CloudWatch's alarm mails: what changed, why, the threshold, the metric and a link back to the API.
public enum EmailRenderer {
    public static func render(_ message: Outbox.Message) -> (subject: String, text: String, html: String) {
        let subject = message.subject ?? "Notification from Plumb topic \(message.topic)"
        if message.type == "SubscriptionConfirmation" {
            let url = message.attributes["subscribeURL"] ?? ""
            let text = "You have chosen to subscribe to the Plumb topic \(message.topic).\n\nTo confirm this subscription, open:\n\(url)\n\nIf you did not ask for this, ignore this message; nothing will be sent to you."
            let html = page("Confirm your subscription", "<p>You have chosen to subscribe to the Plumb topic <b>\(escape(message.topic))</b>.</p><p><a href=\"\(escape(url))\">Confirm the subscription</a></p><p>If you did not ask for this, ignore this message; nothing will be sent to you.</p>")
            return (subject, text, html)
        }
        guard message.attributes[AlarmMessage.eventAttribute] == AlarmMessage.eventValue,
            let alarm = try? JSONDecoder().decode(AlarmMessage.self, from: Data(message.message.utf8))
        else {
            return (subject, message.message + "\n\n-- \nSent by Plumb, topic \(message.topic), message \(message.id)\n",
                page(subject, "<pre>\(escape(message.message))</pre><p class=\"foot\">Sent by Plumb, topic \(escape(message.topic)), message \(escape(message.id))</p>"))
        }
        var rows: [(String, String)] = [
            ("Name", alarm.alarmName),
            ("Description", alarm.alarmDescription ?? "—"),
            ("State change", "\(alarm.oldState) → \(alarm.newState)"),
            ("Reason for state change", alarm.reason),
            ("Timestamp", alarm.time),
        ]
        var threshold: String?
        if let comparison = alarm.comparison, let value = alarm.threshold, let n = alarm.evaluationPeriods,
            let m = alarm.datapointsToAlarm, let metric = alarm.metric
        {
            threshold = "The alarm is in the ALARM state when the metric is \(comparison) \(value) for at least \(m) of the last \(n) period(s) of \(metric.period) seconds."
        }
        if let rule = alarm.rule { rows.append(("Rule", rule)) }
        var metricRows: [(String, String)] = []
        if let metric = alarm.metric {
            metricRows = [
                ("Namespace", metric.namespace), ("Metric name", metric.name),
                ("Dimensions", metric.dimensions.sorted { $0.key < $1.key }.map { "\($0.key) = \($0.value)" }.joined(separator: ", ")),
                ("Period", "\(metric.period) seconds"), ("Statistic", metric.statistic),
            ]
        }
        var text = "Your Plumb alarm \"\(alarm.alarmName)\" has entered the \(alarm.newState) state, because \"\(alarm.reason)\" at \(alarm.time).\n\nAlarm details:\n"
        for (k, v) in rows { text += "- \(k): \(v)\n" }
        if let threshold { text += "\nThreshold:\n- \(threshold)\n" }
        if !metricRows.isEmpty {
            text += "\nMonitored metric:\n"
            for (k, v) in metricRows { text += "- \(k): \(v)\n" }
        }
        if let url = alarm.url { text += "\nView this alarm: \(url)\n" }
        text += "\n-- \nSent by Plumb, topic \(message.topic), message \(message.id)\n"

        let color = alarm.newState == "ALARM" ? "#c0392b" : alarm.newState == "OK" ? "#27ae60" : "#7f8c8d"
        var body = "<h2 style=\"color:\(color)\">\(escape(alarm.newState)): \(escape(alarm.alarmName))</h2>"
        body += "<p>\(escape(alarm.reason))</p>" + table("Alarm details", rows)
        if let threshold { body += "<h3>Threshold</h3><p>\(escape(threshold))</p>" }
        if !metricRows.isEmpty { body += table("Monitored metric", metricRows) }
        if let url = alarm.url { body += "<p><a href=\"\(escape(url))\">View this alarm</a></p>" }
        body += "<p class=\"foot\">Sent by Plumb, topic \(escape(message.topic)), message \(escape(message.id))</p>"
        return (subject, text, page(subject, body))
    }

    static func table(_ title: String, _ rows: [(String, String)]) -> String {
        "<h3>\(escape(title))</h3><table>" + rows.map { "<tr><th>\(escape($0.0))</th><td>\(escape($0.1))</td></tr>" }.joined() + "</table>"
    }

    static func page(_ title: String, _ body: String) -> String {
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
