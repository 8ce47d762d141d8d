import Foundation
import PlumbAPI
import PlumbAlarms
import PlumbMetrics
import PlumbNotify

/// The read-only alarm page: state, reason, threshold, what is watched (a metric, or a metric-math expression and
/// its metrics), the chart of the current evaluation window and the history. Self-contained HTML (inline CSS and an
/// inline SVG chart), so that the page's Content-Security-Policy can forbid every outside resource.
struct AlarmPageView {
    let status: AlarmEngine.Status
    /// Newest first.
    let history: [AlarmHistoryItem]
    let chart: AlarmChart?
    /// Why there is no chart of a metric alarm (its data could not be read).
    let chartProblem: String?
    /// The states of the alarms a composite's rule names.
    let children: [(name: String, state: String)]
    let linkExpires: Int64
    let now: Int64

    static let style = """
        body{font-family:sans-serif;max-width:760px;margin:1.5em auto;padding:0 1em;color:#222}
        th{text-align:left;padding-right:1em;vertical-align:top;font-weight:600}td{vertical-align:top}
        table{border-collapse:collapse;margin-bottom:1em}td,th{padding:2px 1em 2px 0}.time{white-space:nowrap}
        .state{display:inline-block;padding:2px 10px;border-radius:4px;color:#fff;font-weight:600}
        .history td,.history th{padding:2px 12px 2px 0;border-bottom:1px solid #eee}
        .foot{color:#777;font-size:small}svg{max-width:100%;height:auto;border:1px solid #ddd}
        """

    static func color(_ state: String) -> String {
        state == "ALARM" ? "#c0392b" : state == "OK" ? "#27ae60" : "#7f8c8d"
    }

    func html() -> String {
        let e = EmailRenderer.escape
        var message = AlarmMessage(
            alarmName: status.definition.name, alarmDescription: nil, alarmType: status.definition.kind,
            oldState: status.state.rawValue, newState: status.state.rawValue, reason: status.reason,
            time: TimeParsing.format(status.updatedAt))
        status.definition.describe(&message)
        let state = status.state.rawValue
        var body =
            "<h1><span class=\"state\" style=\"background:\(Self.color(state))\">\(e(state))</span> \(e(message.alarmName))</h1>"
        if let description = message.alarmDescription { body += "<p>\(e(description))</p>" }
        body += "<p><b>Reason:</b> \(e(status.reason))</p>"
        var rows: [(String, String)] = [
            ("State", state), ("Since", TimeParsing.format(status.updatedAt)),
            ("Last evaluated", status.lastEvaluatedAt.map(TimeParsing.format) ?? "not yet"),
            (
                "Type",
                message.alarmType == "composite"
                    ? "composite alarm" : message.metrics != nil ? "metric math alarm" : "metric alarm"
            ),
        ]
        if let rule = message.rule { rows.append(("Rule", rule)) }
        body += EmailRenderer.table("Alarm", rows)
        if let threshold = message.thresholdSentence { body += "<h3>Threshold</h3><p>\(e(threshold))</p>" }
        if let chart {
            body += "<h3>The current evaluation window</h3>" + chart.svg()
            body +=
                "<p class=\"foot\">\(e(AlarmChart.legend(threshold: chart.threshold))) \(chart.points.count) periods ending \(e(TimeParsing.format((chart.points.last?.timestamp ?? 0) + chart.period))).</p>"
        } else if let chartProblem {
            body += "<h3>The current evaluation window</h3><p class=\"foot\">No chart: \(e(chartProblem))</p>"
        }
        if !message.metricRows.isEmpty { body += EmailRenderer.table("Monitored metric", message.metricRows) }
        if !message.queryRows.isEmpty {
            body += EmailRenderer.table("Metric math (periods of \(message.period ?? 0) seconds)", message.queryRows)
        }
        if !children.isEmpty { body += EmailRenderer.table("Alarms in the rule", children.map { ($0.name, $0.state) }) }
        body += "<h3>History</h3>"
        if history.isEmpty {
            body += "<p class=\"foot\">No history yet.</p>"
        } else {
            body += "<table class=\"history\"><tr><th>Time (UTC)</th><th>Type</th><th>Summary</th></tr>"
            for item in history {
                body +=
                    "<tr><td class=\"time\">\(e(TimeParsing.format(item.timestamp)))</td><td>\(e(item.type))</td><td>\(e(item.summary))</td></tr>"
            }
            body += "</table>"
        }
        body +=
            "<p class=\"foot\">A read-only page opened through a signed link, valid until \(e(TimeParsing.format(linkExpires))). "
        body += "Shown at \(e(TimeParsing.format(now))) by Plumb.</p>"
        return Self.page(title: "\(state): \(message.alarmName)", body: body)
    }

    static func page(title: String, body: String) -> String {
        """
        <!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="robots" content="noindex"><title>\(EmailRenderer.escape(title))</title><style>\(style)</style></head>
        <body>\(body)</body></html>
        """
    }

    /// A refusal as a small page, for a browser that followed a broken or old link.
    static func errorPage(status: Int, code: String, message: String) -> String {
        let advice =
            status == 403
            ? "Links in alarm mails work for a limited time and only as sent. Open the link from the alarm's newest mail, or ask an operator (`plumb alarms describe NAME`)."
            : "Check that the link was copied whole."
        return page(
            title: "Alarm page: \(code)",
            body:
                "<h1>This alarm link does not open</h1><p>\(EmailRenderer.escape(message))</p><p class=\"foot\">\(EmailRenderer.escape(advice)) (\(status) \(EmailRenderer.escape(code)))</p>"
        )
    }
}
