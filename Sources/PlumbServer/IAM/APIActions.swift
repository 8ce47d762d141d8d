import Hummingbird

/// The action and resource of every `/api/v1` route (and `/write`), as policies name them: `alarms:PutAlarm` on
/// `alarm/sensors-no-data`. Reads are `Get*`/`List*`, so a read-only policy is `*:Get*` and `*:List*`.
enum APIActions {
    /// "METHOD endpoint" (Hummingbird's `{param}` form) → action and resource template (`{param}` substituted).
    static let table: [String: (action: String, resource: String)] = [
        "GET /api/v1/alarms": ("alarms:ListAlarms", "alarm/*"),
        "GET /api/v1/alarms/{name}": ("alarms:GetAlarm", "alarm/{name}"),
        "GET /api/v1/alarms/{name}/history": ("alarms:GetAlarmHistory", "alarm/{name}"),
        "PUT /api/v1/alarms/{name}": ("alarms:PutAlarm", "alarm/{name}"),
        "DELETE /api/v1/alarms/{name}": ("alarms:DeleteAlarm", "alarm/{name}"),
        "POST /api/v1/alarms/{name}/state": ("alarms:SetAlarmState", "alarm/{name}"),
        "POST /api/v1/alarms/reload": ("alarms:ReloadAlarms", "alarm/*"),
        "GET /api/v1/silences": ("alarms:ListSilences", "silence/*"),
        "POST /api/v1/silences": ("alarms:PutSilence", "silence/*"),
        "DELETE /api/v1/silences/{id}": ("alarms:DeleteSilence", "silence/{id}"),
        "GET /api/v1/metric-filters": ("logs:ListMetricFilters", "metric-filter/*"),
        "PUT /api/v1/metric-filters/{name}": ("logs:PutMetricFilter", "metric-filter/{name}"),
        "DELETE /api/v1/metric-filters/{name}": ("logs:DeleteMetricFilter", "metric-filter/{name}"),
        "GET /api/v1/metrics": ("metrics:ListMetrics", "metric/*"),
        "GET /api/v1/metrics/statistics": ("metrics:GetMetricStatistics", "metric/*"),
        "POST /api/v1/metrics/query": ("metrics:GetMetricData", "metric/*"),
        "POST /api/v1/metrics": ("metrics:PutMetricData", "metric/*"),
        "POST /write": ("metrics:PutMetricData", "metric/*"),
        "POST /api/v1/write": ("metrics:PutMetricData", "metric/*"),
        "POST /v1/metrics": ("metrics:PutMetricData", "metric/*"),
        "GET /api/v1/targets": ("metrics:ListScrapeTargets", "scrape-target/*"),
        "GET /api/v1/query": ("metrics:GetMetricData", "metric/*"),
        "POST /api/v1/query": ("metrics:GetMetricData", "metric/*"),
        "GET /api/v1/query_range": ("metrics:GetMetricData", "metric/*"),
        "POST /api/v1/query_range": ("metrics:GetMetricData", "metric/*"),
        "GET /api/v1/series": ("metrics:ListMetrics", "metric/*"),
        "POST /api/v1/series": ("metrics:ListMetrics", "metric/*"),
        "GET /api/v1/labels": ("metrics:ListMetrics", "metric/*"),
        "POST /api/v1/labels": ("metrics:ListMetrics", "metric/*"),
        "GET /api/v1/label/{name}/values": ("metrics:ListMetrics", "metric/*"),
        "POST /api/v1/label/{name}/values": ("metrics:ListMetrics", "metric/*"),
        "GET /api/v1/metadata": ("metrics:ListMetrics", "metric/*"),
        "GET /api/v1/status/buildinfo": ("metrics:ListMetrics", "metric/*"),
        "GET /api/v1/rules": ("alarms:ListAlarms", "alarm/*"),
        "GET /api/v1/alerts": ("alarms:ListAlarms", "alarm/*"),
        "POST /v1/logs": ("logs:PutLogEvents", "log-group/*"),
        "GET /api/v1/functions": ("functions:ListFunctions", "function/*"),
        "GET /api/v1/functions/{name}": ("functions:GetFunction", "function/{name}"),
        "GET /api/v1/functions/{name}/events": ("functions:GetFunctionEvents", "function/{name}"),
        "GET /api/v1/functions/{name}/scaling": ("functions:GetFunctionScaling", "function/{name}"),
        "POST /api/v1/functions/{name}/invoke": ("functions:InvokeFunction", "function/{name}"),
        "PUT /api/v1/functions/{name}/concurrency": ("functions:PutFunctionConcurrency", "function/{name}"),
        "GET /api/v1/logs": ("logs:ListLogGroups", "log-group/*"),
        "GET /api/v1/logs/{group}": ("logs:GetLogEvents", "log-group/{group}"),
        "GET /api/v1/logs/{group}/streams": ("logs:ListLogStreams", "log-group/{group}"),
        "GET /api/v1/logs/{group}/tail": ("logs:GetLogEventsTail", "log-group/{group}"),
        "POST /api/v1/logs/{group}/{stream}": ("logs:PutLogEvents", "log-group/{group}"),
        "PUT /api/v1/logs/{group}/retention": ("logs:PutRetentionPolicy", "log-group/{group}"),
        "DELETE /api/v1/logs/{group}": ("logs:DeleteLogGroup", "log-group/{group}"),
        "GET /api/v1/topics": ("topics:ListTopics", "topic/*"),
        "POST /api/v1/topics": ("topics:CreateTopic", "topic/*"),
        "GET /api/v1/topics/{topic}": ("topics:GetTopic", "topic/{topic}"),
        "GET /api/v1/topics/{topic}/subscriptions": ("topics:ListSubscriptions", "topic/{topic}"),
        "POST /api/v1/topics/{topic}/subscriptions": ("topics:Subscribe", "topic/{topic}"),
        "POST /api/v1/topics/{topic}/publish": ("topics:Publish", "topic/{topic}"),
        "DELETE /api/v1/subscriptions/{id}": ("topics:Unsubscribe", "subscription/{id}"),
        "PUT /api/v1/subscriptions/{id}/delivery-policy": ("topics:SetSubscriptionAttributes", "subscription/{id}"),
        "DELETE /api/v1/topics/{topic}": ("topics:DeleteTopic", "topic/{topic}"),
        "PUT /api/v1/topics/{topic}/delivery-policy": ("topics:SetTopicAttributes", "topic/{topic}"),
        "GET /api/v1/deliveries": ("topics:ListDeliveries", "delivery/*"),
        "POST /api/v1/deliveries/{id}/retry": ("topics:RetryDelivery", "delivery/{id}"),
        "GET /api/v1/connections": ("connections:ListConnections", "connection/*"),
        "POST /api/v1/connections/{id}": ("connections:PostToConnection", "connection/{id}"),
        "DELETE /api/v1/connections/{id}": ("connections:DeleteConnection", "connection/{id}"),
        "GET /api/v1/iam/users": ("iam:ListUsers", "user/*"),
        "POST /api/v1/iam/users": ("iam:CreateUser", "user/*"),
        "POST /api/v1/iam/users/{name}/disable": ("iam:DisableUser", "user/{name}"),
        "POST /api/v1/iam/users/{name}/tokens": ("iam:CreateAccessToken", "user/{name}"),
        "POST /api/v1/iam/users/{name}/access-keys": ("iam:CreateAccessKey", "user/{name}"),
        "GET /api/v1/iam/users/{name}/access-keys": ("iam:ListAccessKeys", "user/{name}"),
        "DELETE /api/v1/iam/users/{name}/access-keys/{id}": ("iam:DeleteAccessKey", "user/{name}"),
        "PUT /api/v1/iam/users/{name}/policies/{policy}": ("iam:AttachUserPolicy", "user/{name}"),
        "PUT /api/v1/iam/users/{name}/password": ("iam:UpdateLoginProfile", "user/{name}"),
        "DELETE /api/v1/iam/users/{name}/mfa": ("iam:DeactivateMFADevice", "user/{name}"),
        "GET /api/v1/iam/groups": ("iam:ListGroups", "group/*"),
        "POST /api/v1/iam/groups": ("iam:CreateGroup", "group/*"),
        "PUT /api/v1/iam/groups/{name}/members/{user}": ("iam:AddUserToGroup", "group/{name}"),
        "PUT /api/v1/iam/groups/{name}/policies/{policy}": ("iam:AttachGroupPolicy", "group/{name}"),
        "GET /api/v1/iam/policies": ("iam:ListPolicies", "policy/*"),
        "GET /api/v1/iam/policies/{name}": ("iam:GetPolicy", "policy/{name}"),
        "PUT /api/v1/iam/policies/{name}": ("iam:PutPolicy", "policy/{name}"),
        "DELETE /api/v1/iam/policies/{name}": ("iam:DeletePolicy", "policy/{name}"),
        "POST /api/v1/iam/simulate": ("iam:SimulatePolicy", "user/*"),
        "GET /api/v1/audit": ("audit:GetAuditEvents", "audit/*"),
        "GET /api/v1/cluster": ("cluster:GetClusterStatus", "cluster/*"),
        "GET /api/v1/usage": ("usage:GetUsage", "usage/*"),
        "GET /api/v1/cost": ("usage:GetCost", "usage/*"),
        "GET /api/v1/budgets": ("usage:ListBudgets", "budget/*"),
        "PUT /api/v1/budgets/{name}": ("usage:PutBudget", "budget/{name}"),
        "DELETE /api/v1/budgets/{name}": ("usage:DeleteBudget", "budget/{name}"),
    ]

    /// The route's action and resource; routes not in the table are refused to everyone but the admin token.
    static func classify(
        method: String, endpoint: String, parameters: Parameters
    ) -> (action: String, resource: String)? {
        guard let entry = table["\(method) \(endpoint)"] else { return nil }
        var resource = entry.resource
        for name in ["name", "group", "topic", "id", "stream", "policy", "user"] where resource.contains("{\(name)}") {
            let value = parameters.get(name).map { $0.removingPercentEncoding ?? $0 } ?? ""
            resource = resource.replacingOccurrences(of: "{\(name)}", with: value)
        }
        return (entry.action, resource)
    }
}
