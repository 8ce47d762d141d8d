import Foundation
import PlumbOpen
import PlumbStore

// One valid request per route, the values FuzzTests starts from (drafted by reading each handler; the `reads:`
// comments say what the handler reads).
extension FuzzTests {
    /// A Lambda handler's code, zipped and base64 (the seed of `PUT /api/v1/functions/{name}`).
    static let handlerZip = Data(
        (try? ZipArchive.archive([
            .init(path: "app.py", bytes: Array("def handler(event, context):\n    return {}\n".utf8))
        ])) ?? []
    ).base64EncodedString()

    // Seeds for FuzzTests: one valid request per route.
    //
    // Names created by earlier seeds and reused by later ones: IAM user "fuzz-user", group "fuzz-group", policy
    // "fuzz-policy" (the seeded policy "read-only" is used where one must already exist); alarm "fuzz-alarm"; metric
    // filter "fuzz-filter"; topic "fuzz-topic"; log group "fuzz-app" / stream "fuzz-stream"; classifier data set
    // "fuzz-ds", model "fuzz-model" (the default "iris" model is used for predictions); sensors project "fuzz-proj",
    // site "fuzz-site", detector "fuzz-det"; accounts email "fuzz@example.com".
    // Path parameters hold characters that need percent-encoding ("/plumb/audit" → %2Fplumb%2Faudit).
    static var seeds: [Seed] {
        [
            // MARK: Health and Prometheus
            Seed("GET", "/healthz"),
            // Unsigned (the admin's bearer token is not a SigV4 signature): what the endpoint does before a key is
            // known. The signed inputs are fuzzed by AWSEndpointFuzzTests.
            Seed(
                "POST", "/",
                json: ["Namespace": "Fuzz/AWS", "MetricData": [["MetricName": "m", "Value": 1]]]),
            // Unsigned, as above: CloudWatch's RPC v2 CBOR path (a JSON body is not CBOR either).
            Seed(
                "POST", "/service/{service}/operation/{operation}",
                params: ["service": "GraniteServiceVersion20100801", "operation": "ListMetrics"],
                json: ["Namespace": "Fuzz/AWS"]),
            // Unsigned, as above: Lambda's REST-JSON routes.
            Seed("GET", "/2015-03-31/functions"),
            Seed("GET", "/2015-03-31/functions/{name}", params: ["name": "sentiment.classify"]),
            Seed("GET", "/2015-03-31/functions/{name}/configuration", params: ["name": "sentiment.classify"]),
            Seed(
                "POST", "/2015-03-31/functions",
                json: [
                    "FunctionName": "fuzz", "Runtime": "python3.12", "Handler": "app.handler",
                    "Role": "arn:aws:iam::000000000000:role/fuzz",
                    "Code": ["ZipFile": "UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA=="],
                ]),
            Seed("DELETE", "/2015-03-31/functions/{name}", params: ["name": "sentiment.classify"]),
            Seed(
                "PUT", "/2015-03-31/functions/{name}/configuration", params: ["name": "sentiment.classify"],
                json: ["Timeout": 5]),
            Seed(
                "PUT", "/2015-03-31/functions/{name}/code", params: ["name": "sentiment.classify"],
                json: ["ZipFile": "UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA=="]),
            Seed(
                "POST", "/2015-03-31/functions/{name}/invocations", params: ["name": "sentiment.classify"],
                json: ["text": "fuzz"]),
            Seed(
                "PUT", "/2017-10-31/functions/{name}/concurrency", params: ["name": "sentiment.classify"],
                json: ["ReservedConcurrentExecutions": 1]
            ),
            Seed("DELETE", "/2017-10-31/functions/{name}/concurrency", params: ["name": "sentiment.classify"]),
            Seed("GET", "/2019-09-30/functions/{name}/concurrency", params: ["name": "sentiment.classify"]),
            Seed(
                "PUT", "/2019-09-30/functions/{name}/provisioned-concurrency", params: ["name": "sentiment.classify"],
                json: ["ProvisionedConcurrentExecutions": 1]),
            Seed("GET", "/2019-09-30/functions/{name}/provisioned-concurrency", params: ["name": "sentiment.classify"]),
            Seed(
                "DELETE", "/2019-09-30/functions/{name}/provisioned-concurrency", params: ["name": "sentiment.classify"]
            ),
            Seed("GET", "/2016-08-19/account-settings"),
            // reads: nothing
            Seed("GET", "/readyz"),
            // The SNS signing certificate (public): any other name is a 404.
            Seed(
                "GET", "/sns/{certificate}",
                params: ["certificate": "SimpleNotificationService-0123456789abcdef0123456789abcdef.pem"]),
            // reads: nothing
            Seed("GET", "/metrics"),
            // reads: nothing

            // MARK: IAM
            Seed(
                "POST", "/api/v1/iam/login",
                json: ["user": "fuzz-user", "password": "Cobalt-Lantern-92-Fjord", "code": "123456"]),
            // reads: body user, password (required strings), code (optional string, TOTP). 401 here: fuzz-user is created below
            Seed("GET", "/api/v1/iam/users"),
            // reads: nothing
            Seed("POST", "/api/v1/iam/users", json: ["name": "fuzz-user"]),
            // reads: body name (1–64 of letters, digits, - _ . @ +)
            Seed("POST", "/api/v1/iam/users/{name}/disable", params: ["name": "fuzz-user-disabled"]),
            // reads: path name. A user that does not exist (404), so that fuzz-user stays enabled for the routes below
            Seed("POST", "/api/v1/iam/users/{name}/tokens", params: ["name": "fuzz-user"]),
            Seed("POST", "/api/v1/iam/users/{name}/access-keys", params: ["name": "fuzz-user"]),
            Seed("GET", "/api/v1/iam/users/{name}/access-keys", params: ["name": "fuzz-user"]),
            Seed(
                "DELETE", "/api/v1/iam/users/{name}/access-keys/{id}",
                params: ["name": "fuzz-user", "id": "PKIAAAAAAAAAAAAAAAAA"]),
            // reads: path name
            Seed(
                "PUT", "/api/v1/iam/users/{name}/password", params: ["name": "fuzz-user"],
                json: ["password": "Cobalt-Lantern-92-Fjord"]),
            // reads: path name; body password (PasswordRules: 12–256 chars, not a dictionary word, not the name)
            Seed("DELETE", "/api/v1/iam/users/{name}/mfa", params: ["name": "fuzz-user"]),
            // reads: path name
            Seed(
                "PUT", "/api/v1/iam/users/{name}/policies/{policy}",
                params: ["name": "fuzz-user", "policy": "read-only"]),
            // reads: path name, policy ("read-only" is a seeded policy)
            Seed("GET", "/api/v1/iam/whoami", as: .platformUser),
            // reads: nothing but the Authorization header (a user's plb_ token; the admin token gets 400 NotAUser)
            Seed(
                "POST", "/api/v1/iam/password",
                json: ["current_password": "Cobalt-Lantern-92-Fjord", "new_password": "Harbour-Quartz-58-Meadow"],
                as: .platformUser),
            // reads: body current_password, new_password (after the caller check: the admin token gets 400 NotAUser first)
            Seed("POST", "/api/v1/iam/mfa/enrol", as: .platformUser),
            // reads: nothing but the Authorization header (user token); no body is read
            Seed("POST", "/api/v1/iam/mfa/confirm", json: ["code": "123456"], as: .platformUser),
            // reads: body code (string; after the caller check)
            Seed("GET", "/api/v1/iam/groups"),
            // reads: nothing
            Seed("POST", "/api/v1/iam/groups", json: ["name": "fuzz-group"]),
            // reads: body name
            Seed(
                "PUT", "/api/v1/iam/groups/{name}/members/{user}", params: ["name": "fuzz-group", "user": "fuzz-user"]),
            // reads: path name, user
            Seed(
                "PUT", "/api/v1/iam/groups/{name}/policies/{policy}",
                params: ["name": "fuzz-group", "policy": "read-only"]),
            // reads: path name, policy
            Seed("GET", "/api/v1/iam/policies"),
            // reads: nothing
            Seed("DELETE", "/api/v1/iam/policies/{name}", params: ["name": "fuzz-policy"]),
            // reads: path name (404: fuzz-policy is created by the PUT below; never a seeded policy)
            Seed("GET", "/api/v1/iam/policies/{name}", params: ["name": "read-only"]),
            // reads: path name
            Seed(
                "PUT", "/api/v1/iam/policies/{name}", params: ["name": "fuzz-policy"],
                json: [
                    "Version": "2012-10-17",
                    "Statement": [
                        [
                            "Sid": "FuzzRead", "Effect": "Allow", "Action": ["alarms:Get*", "metrics:List*"],
                            "Resource": ["alarm/*", "metric/*"],
                        ],
                        [
                            "Sid": "FuzzDeny", "Effect": "Deny", "Action": "functions:InvokeFunction",
                            "Resource": "function/classifier.train",
                        ],
                    ],
                ]),
            // reads: path name; raw body = policy document: Version ("2012-10-17"), Statement (object or list) of
            //   {Sid, Effect Allow|Deny, Action string|[string] service:Action or *, Resource string|[string]}; unknown keys refused
            Seed(
                "POST", "/api/v1/iam/simulate",
                json: ["user": "fuzz-user", "action": "alarms:GetAlarm", "resource": "alarm/fuzz-alarm"]),
            // reads: body user, action, resource (all required strings)

            // MARK: Metrics
            Seed("GET", "/api/v1/metrics", query: ["namespace": "App", "name": "Latency"]),
            // reads: query namespace, name (both optional filters)
            Seed(
                "POST", "/api/v1/metrics",
                json: [
                    "namespace": "App",
                    "data": [
                        [
                            "name": "Latency", "dimensions": ["Function": "f"], "unit": "Milliseconds",
                            "timestamp": "{{now_rfc3339}}", "value": 12.5, "storageResolution": 60,
                        ],
                        [
                            "name": "LatencyHist", "dimensions": [["Name": "Function", "Value": "f"]],
                            "unit": "Milliseconds", "timestamp": "{{now_rfc3339}}",
                            "values": [10.0, 20.5, 30.0], "counts": [1, 2, 1], "storageResolution": 1,
                        ],
                        [
                            "name": "Requests", "dimensions": ["Function": "f"], "unit": "Count",
                            "timestamp": "{{now_rfc3339}}",
                            "statistics": ["sampleCount": 4, "sum": 10, "min": 1, "max": 4],
                        ],
                    ],
                ]),
            // reads: body namespace, data[] of {name, dimensions (object name→value, or [{Name, Value}]), unit (CloudWatch unit),
            //   timestamp (RFC 3339 string or epoch-seconds number), storageResolution (1|60), exactly one of value | values (+ counts)
            //   | statistics {sampleCount, sum, min, max}}; unknown keys refused
            Seed(
                "POST", "/api/v1/metrics/query",
                json: [
                    "start": "-1h", "end": "now", "period": 60,
                    "queries": [
                        [
                            "id": "m1",
                            "metric": ["namespace": "App", "name": "Latency", "dimensions": ["Function": "f"]],
                            "stat": "p99", "label": "p99 latency", "return": false,
                        ],
                        ["id": "e1", "expression": "2 * m1", "label": "doubled", "return": true],
                    ],
                ]),
            // reads: body start, end (string or number: RFC 3339, epoch s, now, -1h), period (whole number), queries[] of
            //   {id, metric {namespace, name, dimensions}, stat, label, return} | {id, expression, label, return}
            Seed(
                "GET", "/api/v1/metrics/statistics",
                query: [
                    "namespace": "App", "name": "Latency", "dimensions": "Function=f", "statistics": "Average,p99",
                    "period": "60", "start": "-1h", "end": "now",
                ]),
            // reads: query namespace, name, dimensions (K=V,K2=V2), statistics, period, start, end

            // MARK: Functions
            Seed("GET", "/api/v1/functions"),
            // reads: nothing
            Seed("GET", "/api/v1/functions/{name}", params: ["name": "sentiment.classify"]),
            Seed(
                "PUT", "/api/v1/functions/{name}", params: ["name": "fuzz-handler"],
                json: [
                    "runtime": "python3", "handler": "app.handler", "zipFile": Self.handlerZip,
                    "timeout": 3,
                ]),
            Seed("DELETE", "/api/v1/functions/{name}", params: ["name": "fuzz-handler"]),
            // reads: path name
            Seed(
                "POST", "/api/v1/functions/{name}/invoke", params: ["name": "sentiment.classify"],
                query: ["type": "RequestResponse"], json: ["text": "The new release is wonderful and fast!"]),
            // reads: path name; query type (RequestResponse|Event); body = the function's payload (sentiment.classify: {text})
            Seed(
                "GET", "/api/v1/functions/{name}/events", params: ["name": "sentiment.classify"],
                query: ["status": "pending"]),
            // reads: path name; query status (pending|succeeded|failed)
            Seed(
                "PUT", "/api/v1/functions/{name}/concurrency", params: ["name": "sentiment.classify"],
                json: ["reserved": 10, "provisioned": 1]),
            // reads: path name; body reserved (whole number or null), provisioned (whole number ≥ 0); at least one key
            Seed(
                "GET", "/api/v1/functions/{name}/scaling", params: ["name": "sentiment.classify"],
                query: ["limit": "50"]),
            // reads: path name; query limit (1…keptActivities)

            // MARK: Alarms
            Seed("GET", "/api/v1/alarms", query: ["state": "OK", "type": "metric", "prefix": "fuzz"]),
            // reads: query state (OK|ALARM|INSUFFICIENT_DATA), type (metric|composite), prefix
            Seed("POST", "/api/v1/alarms/reload"),
            // reads: nothing (re-reads the alert files)
            Seed("DELETE", "/api/v1/alarms/{name}", params: ["name": "fuzz-alarm"]),
            // reads: path name (404: created by the PUT below)
            Seed("GET", "/api/v1/alarms/{name}", params: ["name": "fuzz-alarm"]),
            // reads: path name (404 until the PUT below)
            Seed(
                "PUT", "/api/v1/alarms/{name}", params: ["name": "fuzz-alarm"],
                json: [
                    "name": "fuzz-alarm", "description": "fuzz alarm on p99 latency",
                    "namespace": "App", "metric": "Latency", "dimensions": ["Function": "f"], "statistic": "p99",
                    "period": 60, "evaluation_periods": 3, "datapoints_to_alarm": 2,
                    "comparison": "GreaterThanThreshold", "threshold": 5, "treat_missing_data": "notBreaching",
                    "evaluate_low_sample_count_percentile": "evaluate",
                    "alarm_actions": ["ops"], "ok_actions": ["ops"], "insufficient_data_actions": ["ops"],
                ]),
            // reads (parseAlarmDocument, JSON or YAML): name (must equal the path), description, namespace, metric, dimensions
            //   (map), statistic, period, evaluation_periods, datapoints_to_alarm, comparison, threshold, treat_missing_data,
            //   evaluate_low_sample_count_percentile (evaluate|ignore), alarm_actions, ok_actions, insufficient_data_actions
            //   (≤ 5 existing topics). Alternatives not in this seed: metrics (metric math, instead of namespace/metric/
            //   dimensions/statistic) and the composite fields rule, actions_suppressor, wait_period, extension_period.
            //   "ops" is the topic of alerts/functions.yaml; topics are created only later in this list.
            Seed(
                "GET", "/api/v1/alarms/{name}/history", params: ["name": "fuzz-alarm"],
                query: ["limit": "10", "type": "StateUpdate", "before": "now"]),
            // reads: path name; query limit (1–1000), type (StateUpdate|ConfigurationUpdate|Action), before (query time)
            Seed(
                "POST", "/api/v1/alarms/{name}/state", params: ["name": "fuzz-alarm"],
                json: ["state": "ALARM", "reason": "fuzz test", "reason_data": "{\"source\": \"fuzz\"}"]),
            // reads: path name; body state (OK|ALARM|INSUFFICIENT_DATA), reason, reason_data (optional string)

            // MARK: Silences
            Seed("GET", "/api/v1/silences", query: ["state": "active", "alarm": "fuzz-alarm"]),
            // reads: query state (active|pending|expired), alarm (an alarm name the silences match)
            Seed(
                "POST", "/api/v1/silences",
                json: ["alarm": "fuzz-alarm", "duration": "2h", "comment": "fuzz maintenance window"]),
            // reads: body alarm (exact name) or match (glob with *), exactly one; duration (30s|5m|2h|1d|1w, at most 366 days);
            //   comment (1–1000 characters, one line); the creator is the caller
            Seed("DELETE", "/api/v1/silences/{id}", params: ["id": "00000000-0000-0000-0000-000000000000"]),
            // reads: path id (a silence's UUID; unknown here: 404)

            // MARK: Metric filters
            Seed("GET", "/api/v1/metric-filters"),
            // reads: nothing
            Seed("DELETE", "/api/v1/metric-filters/{name}", params: ["name": "fuzz-filter"]),
            // reads: path name (404: created by the PUT below)
            Seed(
                "PUT", "/api/v1/metric-filters/{name}", params: ["name": "fuzz-filter"],
                json: [
                    "name": "fuzz-filter", "log_group": "fuzz-app", "pattern": "{ $.level = \"ERROR\" }",
                    "namespace": "App/Logs",
                    "metric": "Errors", "value": 1, "default_value": 0, "unit": "Count",
                    "dimensions": ["Service": "api"],
                ]),
            // reads (parseMetricFilterDocument): name (must equal the path), log_group, pattern (filter pattern), namespace,
            //   metric, value (number or $field), default_value, unit, dimensions (≤ 3; values may be $fields)

            // MARK: Logs
            Seed("GET", "/api/v1/logs", query: ["prefix": "/plumb/"]),
            Seed("GET", "/api/v1/cluster"),
            Seed("GET", "/api/v1/usage", query: ["start": "now-7d", "end": "now", "by": "function"]),
            // reads: query start, end (query time, at most 400 days apart), by (function|store|usage|user|group|topic|log_group|day)
            Seed("GET", "/api/v1/cost", query: ["start": "now-7d", "end": "now", "by": "store"]),
            // reads: query start, end, by (as usage)
            Seed("GET", "/api/v1/budgets"),
            Seed(
                "PUT", "/api/v1/budgets/{name}", params: ["name": "fuzz-budget"],
                json: [
                    "amount": 25, "period": "monthly", "prices": "aws", "filter": ["function": "probe.echo"],
                    "evaluation_period": 60, "forecast_after": 86_400,
                    "thresholds": [
                        ["kind": "forecast", "percent": 100],
                        ["kind": "actual", "percent": 80],
                    ],
                ]),
            // reads: path name; body amount (> 0), period (monthly|daily), prices (aws|host), filter (function, store,
            //   usage, topic, user, log_group), thresholds[] of {kind (actual|forecast), percent (0–10000], actions
            //   (topics)}, evaluation_period (10, 30, n×60), forecast_after (seconds), description
            Seed("DELETE", "/api/v1/budgets/{name}", params: ["name": "fuzz-budget"]),
            // reads: query prefix
            Seed(
                "GET", "/api/v1/logs/{group}", params: ["group": "/plumb/audit"],
                query: [
                    "filter": "{ $.status >= 200 }", "start": "-1h", "end": "now", "stream": "api", "limit": "10",
                    "order": "newest", "next": "0.0",
                ]),
            // reads: path group; query filter (pattern), start, end (query time), stream (prefix), limit (1–10000),
            //   order (oldest|newest), next ("ts.id" token). /plumb/audit exists once an audited write ran (IAM seeds above)
            Seed("GET", "/api/v1/logs/{group}/streams", params: ["group": "/plumb/audit"]),
            // reads: path group
            Seed(
                "GET", "/api/v1/logs/{group}/tail", params: ["group": "/plumb/audit"],
                query: ["filter": "ERROR", "stream": "api", "seconds": "1"]),
            // reads: path group; query filter (pattern), stream (prefix), seconds (0–86400; 0 = until the client leaves)
            Seed("PUT", "/api/v1/logs/{group}/retention", params: ["group": "/plumb/audit"], json: ["days": 30]),
            Seed("DELETE", "/api/v1/logs/{group}", params: ["group": "fuzz-app"]),
            // reads: path group; body days (one of CloudWatch's day values, or null = never expire)
            Seed(
                "POST", "/api/v1/logs/{group}/{stream}", params: ["group": "fuzz-app", "stream": "fuzz-stream"],
                json: [
                    "events": [
                        ["message": "{\"level\": \"ERROR\", \"service\": \"api\", \"msg\": \"fuzz\"}"],
                        ["message": "INFO plain text line"],
                    ]
                ]),
            // reads: path group (not under /plumb/), stream; body events[] of {timestamp (optional epoch-ms NUMBER), message}.
            //   timestamp is left out: it must be a JSON number within 14 days of now, which a JSON literal cannot hold

            // MARK: Topics and deliveries
            Seed("GET", "/api/v1/topics"),
            // reads: nothing
            Seed(
                "POST", "/api/v1/topics",
                json: [
                    "name": "fuzz-topic",
                    "delivery_policy": ["num_retries": 3, "min_delay": 1, "max_delay": 20, "backoff": "exponential"],
                ]),
            // reads: body name, delivery_policy {num_retries (0–100), min_delay, max_delay (0–3600), backoff (linear|arithmetic|geometric|exponential)}
            Seed("GET", "/api/v1/topics/{topic}", params: ["topic": "fuzz-topic"]),
            // reads: path topic
            Seed("GET", "/api/v1/topics/{topic}/subscriptions", params: ["topic": "fuzz-topic"]),
            // reads: path topic
            Seed(
                "POST", "/api/v1/topics/{topic}/subscriptions", params: ["topic": "fuzz-topic"],
                json: [
                    "protocol": "webhook", "endpoint": "http://127.0.0.1:9/fuzz-hook",
                    "secret": "fuzz-secret-0123456789", "format": "plumb",
                    "delivery_policy": ["num_retries": 2, "min_delay": 1, "max_delay": 5, "backoff": "linear"],
                ]),
            // reads: path topic; body protocol (email|webhook|function|alertmanager), endpoint, secret (≥ 16 chars, webhooks
            //   only), format (plumb|alertmanager-webhook, old name alertmanager; webhooks only), delivery_policy {num_retries,
            //   min_delay, max_delay, backoff}
            Seed(
                "POST", "/api/v1/topics/{topic}/publish", params: ["topic": "fuzz-topic"],
                json: ["subject": "fuzz subject", "message": "fuzz message body", "attributes": ["severity": "low"]]),
            // reads: path topic; body subject (optional), message, attributes (optional map of strings)
            Seed("DELETE", "/api/v1/subscriptions/{id}", params: ["id": "sub-00000000-0000-0000-0000-000000000000"]),
            // reads: path id (ids are "sub-<uuid>", unknown here: 404)
            Seed(
                "PUT", "/api/v1/subscriptions/{id}/delivery-policy",
                params: ["id": "sub-00000000-0000-0000-0000-000000000000"],
                json: ["delivery_policy": ["num_retries": 2, "min_delay": 1, "max_delay": 5, "backoff": "linear"]]),
            // reads: path id; body delivery_policy (an object as at subscribe, or null to clear; required)
            Seed(
                "PUT", "/api/v1/topics/{topic}/delivery-policy", params: ["topic": "fuzz-topic"],
                json: ["delivery_policy": ["num_retries": 4, "min_delay": 2, "max_delay": 30, "backoff": "geometric"]]),
            // reads: path topic; body delivery_policy (an object, or null to clear; required)
            Seed("DELETE", "/api/v1/topics/{topic}", params: ["topic": "fuzz-topic-doomed"]),
            // reads: path topic (an API topic; a file's is 409, an unknown one 404)
            Seed(
                "GET", "/api/v1/deliveries",
                query: ["topic": "fuzz-topic", "status": "pending", "limit": "10", "before": "1000000"]),
            // reads: query topic, status (pending|delivered|failed|superseded), limit (1–1000), before (delivery id)
            Seed("POST", "/api/v1/deliveries/{id}/retry", params: ["id": "1"]),
            // reads: path id (a number)

            // MARK: WebSocket connections
            Seed("GET", "/api/v1/connections"),
            // reads: nothing
            Seed("DELETE", "/api/v1/connections/{id}", params: ["id": "fuzz-conn"]),
            // reads: path id (410 for a connection that is not open)
            Seed(
                "POST", "/api/v1/connections/{id}", params: ["id": "fuzz-conn"],
                raw: ("text/plain", "{\"type\": \"notice\", \"text\": \"hello from the fuzzer\"}")),
            // reads: path id; raw body = the text frame (non-empty UTF-8, ≤ maxFrameBytes)

            // MARK: Line protocol
            Seed(
                "POST", "/write", query: ["precision": "s", "resolution": "60"],
                raw: (
                    "text/plain",
                    "cpu,host=web1,region=eu usage=42.5,idle=7i,up=true,note=\"ok\" {{now}}\nmem,host=web1 used=1024u,free=3500.5 {{now}}"
                )),
            // reads: query precision (ns|us|ms|s), resolution (1|60); raw body = line protocol (measurement,tags fields timestamp)

            // MARK: Prometheus remote write
            Seed(
                "POST", "/api/v1/write",
                raw: (
                    "application/x-protobuf",
                    "node_load1{instance=\"web1:9100\",job=\"node\"} 0.42 {{now_ms}}\nup{job=\"node\"} 1 {{now_ms}}"
                )
            ).encoded("snappy") { text in
                (try? RemoteWriteBody.series(fromLines: text).map(RemoteWriteBody.make)) ?? Array(text.utf8)
            },
            // reads: header Content-Encoding (snappy); raw body = a snappy WriteRequest (built from the lines shown)

            // MARK: Prometheus query API
            Seed(
                "GET", "/api/v1/query", query: ["query": "sum by (job) (rate(node_load1[5m]))", "time": "1796600000"]),
            // reads: query query (PromQL), time (epoch seconds or RFC 3339, default now), timeout (duration)
            Seed(
                "POST", "/api/v1/query",
                raw: ("application/x-www-form-urlencoded", "query=node_load1%20%2A%202&time=1796600000.5")),
            // reads: form body query, time (as the GET's query string)
            Seed(
                "GET", "/api/v1/query_range",
                query: ["query": "avg_over_time(up[1m])", "start": "1796600000", "end": "1796603600", "step": "60"]),
            // reads: query query, start, end (timestamps), step (seconds or a duration), timeout
            Seed(
                "POST", "/api/v1/query_range",
                raw: (
                    "application/x-www-form-urlencoded",
                    "query=up&start=2026-12-07T00%3A00%3A00Z&end=2026-12-07T01%3A00%3A00Z&step=1m"
                )),
            // reads: form body query, start, end, step
            Seed("GET", "/api/v1/series", query: ["match[]": "up{job=\"node\"}", "start": "1796600000"]),
            // reads: query match[] (a series selector; repeatable, at least one), start, end
            Seed("POST", "/api/v1/series", raw: ("application/x-www-form-urlencoded", "match%5B%5D=node_load1")),
            // reads: form body match[], start, end
            Seed("GET", "/api/v1/labels", query: ["match[]": "up"]),
            // reads: query match[] (optional), start, end
            Seed("POST", "/api/v1/labels", raw: ("application/x-www-form-urlencoded", "start=1796600000")),
            // reads: form body match[], start, end
            Seed("GET", "/api/v1/label/{name}/values", params: ["name": "job"], query: ["match[]": "up"]),
            // reads: path name (a label name); query match[], start, end
            Seed(
                "POST", "/api/v1/label/{name}/values", params: ["name": "__name__"],
                raw: ("application/x-www-form-urlencoded", "match%5B%5D=%7Bjob%3D%22node%22%7D")),
            // reads: path name; form body match[], start, end
            Seed("GET", "/api/v1/metadata", query: ["metric": "node_load1", "limit": "10"]),
            // reads: query metric, limit
            Seed("GET", "/api/v1/status/buildinfo"),
            // reads: nothing
            Seed("GET", "/api/v1/rules", query: ["type": "alert"]),
            // reads: query type (alert | record)
            Seed("GET", "/api/v1/alerts"),
            // reads: nothing

            // MARK: Scrape targets
            Seed("GET", "/api/v1/targets"),
            // reads: nothing

            // MARK: OpenTelemetry (OTLP/HTTP, JSON encoding)
            Seed(
                "POST", "/v1/metrics",
                raw: (
                    "application/json",
                    "{\"resourceMetrics\":[{\"resource\":{\"attributes\":[{\"key\":\"service.name\",\"value\":{\"stringValue\":\"fuzz-app\"}}]},\"scopeMetrics\":[{\"scope\":{\"name\":\"fuzz\"},\"metrics\":[{\"name\":\"fuzz.requests\",\"unit\":\"{request}\",\"sum\":{\"aggregationTemporality\":1,\"isMonotonic\":true,\"dataPoints\":[{\"asInt\":\"3\",\"timeUnixNano\":\"{{now_ns}}\",\"attributes\":[{\"key\":\"route\",\"value\":{\"stringValue\":\"/pay\"}}]}]}},{\"name\":\"fuzz.latency\",\"unit\":\"ms\",\"histogram\":{\"aggregationTemporality\":1,\"dataPoints\":[{\"count\":\"3\",\"sum\":42.5,\"bucketCounts\":[\"1\",\"2\"],\"explicitBounds\":[10],\"timeUnixNano\":\"{{now_ns}}\"}]}}]}]}]}"
                )),
            // reads: header Content-Type (application/json | application/x-protobuf), Content-Encoding (gzip); raw body =
            //   an ExportMetricsServiceRequest (OTLP JSON: int64 as strings, enums as integers)
            Seed(
                "POST", "/v1/metrics",
                raw: (
                    "application/x-protobuf",
                    "{\"resourceMetrics\":[{\"resource\":{\"attributes\":[{\"key\":\"service.name\",\"value\":{\"stringValue\":\"fuzz-app\"}}]},\"scopeMetrics\":[{\"metrics\":[{\"name\":\"fuzz.temperature\",\"unit\":\"Cel\",\"gauge\":{\"dataPoints\":[{\"asDouble\":21.5,\"timeUnixNano\":\"{{now_ns}}\",\"attributes\":[{\"key\":\"room\",\"value\":{\"stringValue\":\"lab\"}}]}]}},{\"name\":\"fuzz.jobs\",\"sum\":{\"aggregationTemporality\":2,\"isMonotonic\":true,\"dataPoints\":[{\"asInt\":\"7\",\"startTimeUnixNano\":\"{{now_ns}}\",\"timeUnixNano\":\"{{now_ns}}\"}]}}]}]}]}"
                )
            ).encoded("identity") { text in OTLPMetricsBody.protobuf(fromJSON: text) ?? Array(text.utf8) },
            // reads: the same, as protobuf (the hand-read hot path; built from the JSON shown)
            Seed(
                "POST", "/v1/logs",
                raw: (
                    "application/json",
                    "{\"resourceLogs\":[{\"resource\":{\"attributes\":[{\"key\":\"service.name\",\"value\":{\"stringValue\":\"fuzz-app\"}}]},\"scopeLogs\":[{\"scope\":{\"name\":\"fuzz\"},\"logRecords\":[{\"timeUnixNano\":\"{{now_ns}}\",\"severityNumber\":17,\"severityText\":\"ERROR\",\"body\":{\"stringValue\":\"payment failed\"},\"traceId\":\"5b8efff798038103d269b633813fc60c\",\"spanId\":\"eee19b7ec3c1b174\",\"attributes\":[{\"key\":\"user\",\"value\":{\"stringValue\":\"ada\"}}]}]}]}]}"
                )),
            // reads: header Content-Type, Content-Encoding; raw body = an ExportLogsServiceRequest (OTLP JSON: hex ids)

            // MARK: Subscription confirmation (public)
            Seed("GET", "/subscriptions/confirm", query: ["token": "fuzz-confirmation-token"]),
            // reads: query token (404 for an unknown token)

            // MARK: Alarm page (public, signed link)
            Seed(
                "GET", "/alarms/{name}", params: ["name": "fuzz-alarm"],
                query: ["exp": "4102444800", "sig": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"]),
            // reads: path name (1–255 characters, no control character); query exp (whole epoch seconds, ≤ 12 digits), sig
            //   (43 characters of base64url). The seed's signature is well formed but not the server's: 403 InvalidSignature

            // MARK: Sentiment
            Seed("GET", "/apps/sentiment"),
            // reads: nothing (the page)
            Seed("GET", "/apps/sentiment/comments", query: ["limit": "20", "after": "0"]),
            // reads: query limit (1–100), after (comment id ≥ 0)
            Seed("POST", "/apps/sentiment/comments", json: ["content": "I really love this product, great work!"]),
            // reads: body content (non-blank, ≤ 10000 chars)
            Seed("POST", "/apps/sentiment/analyze", json: ["text": "This is terrible and slow :("]),
            // reads: body text (non-blank, ≤ 10000 chars)

            // MARK: Chat
            Seed("GET", "/apps/chat"),
            // reads: nothing (the page)
            Seed(
                "GET", "/apps/chat/rooms/{room}/messages", params: ["room": "lobby"],
                query: ["limit": "50", "before": "1000000"]),
            // reads: path room (1–64 letters, digits, space _ . -); query limit (1–500), before (message id > 0)
            Seed("GET", "/apps/chat/online"),
            // reads: nothing
            Seed("GET", "/apps/chat/ws", query: ["room": "lobby", "user": "fuzzer"]),
            // reads: a plain GET is a 426 (UpgradeRequired); on a WebSocket upgrade $connect reads query user (required), room
            //   (default lobby), and $default frames {action: "send", text}

            // MARK: Support
            Seed(
                "POST", "/apps/support/ask", json: ["text": "How do I reset my password?", "session": "fuzz-session"]),
            // reads: body text (non-blank, ≤ maxQuestionLength), session (optional, ≤ 200 chars)

            // MARK: Classifier
            Seed(
                "POST", "/apps/classifier/predict", query: ["model": "iris"],
                json: ["x1": 6.7, "x2": 3.3, "x3": 5.7, "x4": 2.5]),
            // reads: query model (default iris); body = object of the model's features (iris: x1…x4), finite numbers
            Seed(
                "POST", "/apps/classifier/predict/batch", query: ["model": "iris"],
                raw: ("text/csv", "x1,x2,x3,x4\n6.7,3.3,5.7,2.5\n5.1,3.5,1.4,0.2\n")),
            // reads: query model; raw body = CSV whose header is exactly the model's features
            Seed(
                "GET", "/apps/classifier/predictions",
                query: ["model": "iris", "start": "0", "end": "2100-01-01T00:00:00Z", "after": "0", "limit": "10"]),
            // reads: query model, start, end (epoch seconds or RFC 3339), after (id ≥ 0), limit (1–1000)
            Seed("GET", "/apps/classifier/datasets"),
            // reads: nothing
            Seed(
                "POST", "/apps/classifier/datasets", query: ["name": "fuzz-ds", "label": "label"],
                raw: ("text/csv", "x1,x2,label\n1.0,2.0,a\n1.1,2.1,a\n1.2,1.9,a\n5.0,6.0,b\n5.1,6.2,b\n4.9,5.8,b\n")),
            // reads: query name (required), label (default "label"); raw body = CSV with a header, numeric features, ≥ 2 classes (admin)
            Seed(
                "POST", "/apps/classifier/train",
                json: [
                    "model": "fuzz-model", "dataset": "fuzz-ds", "folds": 2, "activate": true,
                    "parameters": [
                        "rounds": 5, "max_depth": 3, "eta": 0.3, "lambda": 1.0, "gamma": 0.0, "min_child_weight": 1.0,
                        "colsample_bytree": 1.0, "seed": 7,
                    ],
                ]),
            // reads: body model, dataset (default = model), folds (2–10), activate, parameters {rounds, max_depth, eta, lambda,
            //   gamma, min_child_weight, colsample_bytree, seed (UInt64)} (admin)
            Seed("GET", "/apps/classifier/models"),
            // reads: nothing
            Seed(
                "POST", "/apps/classifier/models/{name}/promote", params: ["name": "fuzz-model"], json: ["version": 1]),
            // reads: path name; body version (Int) (admin)
            Seed("POST", "/apps/classifier/models/{name}/rollback", params: ["name": "fuzz-model"]),
            // reads: path name (admin; 409 while fuzz-model has one version)
            Seed(
                "GET", "/apps/classifier/images", query: ["class": "cat", "key": "fuzz", "after": "0", "limit": "10"]),
            // reads: query limit (1–1000), after (key), class, key (substring, ≤ 100 chars)
            Seed("GET", "/apps/classifier/images/{key}", params: ["key": "fuzz-img"]),
            // reads: path key (404: no image is stored by these seeds)
            Seed("POST", "/apps/classifier/images/{key}", params: ["key": "fuzz-img"], raw: ("image/png", "not-a-png")),
            // reads: path key (1–100 letters, digits, _ . -); raw body = PNG or JPEG bytes (≤ 1 MB, ≤ 4 Mpx; format sniffed,
            //   Content-Type not read). A valid PNG is not expressible as text: this body gets a 400/415
            Seed("GET", "/apps/classifier/images/{key}/raw", params: ["key": "fuzz-img"]),
            // reads: path key
            Seed("PUT", "/apps/classifier/images/{key}/label", params: ["key": "fuzz-img"], json: ["label": "cat"]),
            // reads: path key; body label (1–64 letters, digits, _ . -) (admin)
            Seed("GET", "/apps/classifier/manager"),
            // reads: nothing
            Seed("PUT", "/apps/classifier/manager", json: ["mode": "manual", "min_new_labels": 50]),
            // reads: body mode (auto|manual), min_new_labels (1–100000) (admin)
            Seed("GET", "/apps/classifier/training-runs", query: ["limit": "10"]),
            // reads: query limit (1–1000)

            // MARK: Sensors
            Seed("GET", "/apps/sensors/projects"),
            // reads: nothing
            Seed("POST", "/apps/sensors/projects", json: ["id": "fuzz-proj", "name": "Fuzz project"]),
            // reads: body id (1–64 letters, digits, _ . -), name (optional) (admin)
            Seed("GET", "/apps/sensors/sites"),
            // reads: nothing
            Seed(
                "POST", "/apps/sensors/sites",
                json: [
                    "id": "fuzz-site", "project": "fuzz-proj", "name": "Fuzz site", "latitude": 52.2, "longitude": 0.12,
                ]),
            // reads: body id, project, name (optional), latitude (−90…90), longitude (−180…180) (admin)
            Seed("GET", "/apps/sensors/detectors"),
            // reads: nothing
            Seed("POST", "/apps/sensors/detectors", json: ["id": "fuzz-det", "model": "muon-v1", "site": "fuzz-site"]),
            // reads: body id, model (default muon-v1), site (optional) (admin)
            Seed("GET", "/apps/sensors/detectors/{id}", params: ["id": "fuzz-det"]),
            // reads: path id
            Seed(
                "POST", "/apps/sensors/detectors/{id}/deployments", params: ["id": "fuzz-det"],
                json: ["status": "deployed", "site": "fuzz-site", "note": "installed by the fuzzer"]),
            // reads: path id; body status (planned|deployed|retrieved|maintenance), site (required when deployed), note (admin)
            Seed(
                "PATCH", "/apps/sensors/projects/{id}", params: ["id": "fuzz-proj"],
                json: ["name": "Fuzz project, renamed"]),
            // reads: path id; body name
            Seed(
                "PATCH", "/apps/sensors/sites/{id}", params: ["id": "fuzz-site"],
                json: ["name": "Fuzz site", "latitude": 52.3, "longitude": 0.13]),
            // reads: path id; body name, latitude, longitude
            Seed("PATCH", "/apps/sensors/detectors/{id}", params: ["id": "fuzz-det"], json: ["model": "muon-v2"]),
            // reads: path id; body model
            Seed(
                "PATCH", "/apps/sensors/detectors/{id}/deployments/{number}",
                params: ["id": "fuzz-det", "number": "1"], json: ["note": "corrected"]),
            // reads: path id, number; body note
            Seed(
                "DELETE", "/apps/sensors/detectors/{id}/deployments/{number}",
                params: ["id": "fuzz-det", "number": "9"]),
            // reads: path id, number (9: no such entry, a 404; the fuzzer must not undo the seed's deployment)
            Seed("DELETE", "/apps/sensors/detectors/{id}", params: ["id": "fuzz-det-unknown"]),
            // reads: path id
            Seed("DELETE", "/apps/sensors/sites/{id}", params: ["id": "fuzz-site-unknown"]),
            // reads: path id
            Seed("DELETE", "/apps/sensors/projects/{id}", params: ["id": "fuzz-proj-unknown"]),
            // reads: path id
            Seed(
                "POST", "/apps/sensors/ingest",
                raw: (
                    "application/x-ndjson",
                    "{\"detector\":\"fuzz-det\",\"timestamp\":{{now_ms}},\"event_count\":60,\"coincidence_count\":12,\"rate_hz\":1.25,\"temperature_c\":19.5,\"pressure_hpa\":1012.75,\"humidity_pct\":44.5,\"sipm_voltage_v\":29.41,\"sipm_current_ua\":1.12,\"dead_time_ms\":0.31,\"adc_peak\":805,\"adc_area\":5090,\"battery_v\":3.91,\"rssi_dbm\":-71,\"firmware\":\"fw 1.0\"}\n"
                        + "{\"detector\":\"fuzz-det\",\"timestamp\":\"{{now_rfc3339}}\",\"event_count\":61,\"coincidence_count\":11,\"rate_hz\":1.27,\"temperature_c\":19.6,\"pressure_hpa\":1012.5,\"humidity_pct\":44.0,\"sipm_voltage_v\":29.4,\"sipm_current_ua\":1.1,\"dead_time_ms\":0.3,\"adc_peak\":800,\"adc_area\":5100,\"battery_v\":3.9,\"rssi_dbm\":-70,\"firmware\":\"fw 1.0\"}\n"
                )),
            // reads: raw NDJSON body (chunked = streamed acks; with a length = one answer), one reading per line: detector (known),
            //   timestamp (epoch-ms number or RFC 3339), the 13 numeric fields event_count … rssi_dbm (required, finite), firmware (≤ 64)
            Seed(
                "POST", "/apps/sensors/batches",
                json: [
                    [
                        "detector": "fuzz-det", "timestamp": "{{now_rfc3339}}", "event_count": 59,
                        "coincidence_count": 10, "rate_hz": 1.2, "temperature_c": 19.4,
                        "pressure_hpa": 1013.0, "humidity_pct": 45.0, "sipm_voltage_v": 29.42, "sipm_current_ua": 1.13,
                        "dead_time_ms": 0.32, "adc_peak": 810,
                        "adc_area": 5080, "battery_v": 3.92, "rssi_dbm": -72, "firmware": "fw 1.0",
                    ]
                ]),
            // reads: body = JSON array of readings (or NDJSON), the same 16 fields as /ingest
            Seed(
                "GET", "/apps/sensors/export.csv",
                query: [
                    "detector": "fuzz-det", "start": "0", "end": "4102444800000",
                    "features": "event_count,rate_hz,pressure_hpa,firmware",
                ]),
            // reads: query detector, start, end (RFC 3339 or epoch ms), features (comma list of numeric fields or firmware)
            Seed("POST", "/apps/sensors/deliver"),
            // reads: nothing (admin)
            Seed("GET", "/apps/sensors/segments", query: ["detector": "fuzz-det"]),
            // reads: query detector
            Seed("POST", "/apps/sensors/score"),
            // reads: nothing (admin)
            Seed("GET", "/apps/sensors/findings", query: ["detector": "fuzz-det", "limit": "10"]),
            // reads: query detector, limit (1–1000)
            Seed(
                "POST", "/apps/sensors/shares",
                json: ["object": "segments/2026/01/01/00/fuzz-det-1-3.ndjson.z", "finding": 1, "expires_in": 3600]),
            // reads: body expires_in (1–604800, Int), object (segment key; wins when present) else finding (Int id) (admin).
            //   Segment keys are segments/yyyy/mm/dd/hh/<detector>-<first>-<last>.ndjson.z, not known in advance: 404
            Seed(
                "GET", "/apps/sensors/shared",
                query: [
                    "object": "segments/2026/01/01/00/fuzz-det-1-3.ndjson.z", "finding": "1", "expires": "4102444800",
                    "signature": "fuzz-signature",
                ]),
            // reads: query object (or finding when object is absent), expires, signature (403 for a wrong signature)
            Seed("GET", "/apps/sensors/objects", query: ["prefix": "segments/"]),
            // reads: query prefix
            Seed(
                "POST", "/apps/sensors/objects/restore",
                json: ["key": "segments/2026/01/01/00/fuzz-det-1-3.ndjson.z", "days": 1.5]),
            // reads: body key, days (Double, 0 < days ≤ 365) (admin; 404 for an unknown key)
            Seed("POST", "/apps/sensors/lifecycle"),
            // reads: nothing (admin)

            // MARK: Accounts
            Seed(
                "GET", "/apps/accounts/confirm",
                query: [
                    "account": "00000000-0000-0000-0000-000000000000", "expires": "4102444800",
                    "signature": "fuzz-signature",
                ]),
            // reads: query account, expires, signature (403 for a wrong signature)
            Seed("POST", "/apps/accounts/reset/start", json: ["email": "fuzz@example.com"]),
            // reads: body email; header x-plumb-source (set by the server)
            Seed(
                "POST", "/apps/accounts/reset/finish",
                json: [
                    "token": "rs_fuzzresettoken", "password": "Harbour-Quartz-58-Meadow",
                    "answers": [
                        ["question": "What was the name of your first school?", "answer": "Riverside Primary"],
                        ["question": "What was your first pet's name?", "answer": "Biscuit"],
                    ],
                ]),
            // reads: body token, answers[] {question, answer}, password (403 for an unknown token, before answers/password)
            Seed("POST", "/apps/accounts/mfa/enrol", as: .endUser),
            // reads: nothing but the Authorization header (an end user's access token; access .user)
            Seed("POST", "/apps/accounts/mfa/confirm", json: ["code": "123456"], as: .endUser),
            // reads: Authorization header (access token); body code
            Seed("GET", "/apps/accounts/questions"),
            // reads: nothing
            Seed(
                "POST", "/apps/accounts/signup",
                json: ["email": "fuzz@example.com", "password": "Tangerine-Orbit-47-Quill"]),
            // reads: body email, password (PasswordRules)
            Seed(
                "POST", "/apps/accounts/security-questions",
                json: [
                    "email": "fuzz@example.com", "password": "Tangerine-Orbit-47-Quill",
                    "answers": [
                        ["question": "What was the name of your first school?", "answer": "Riverside Primary"],
                        ["question": "What was your first pet's name?", "answer": "Biscuit"],
                    ],
                ]),
            // reads: body email, password, answers[] (≥ 2) of {question (one of GET /questions), answer (≥ 2 chars)}
            Seed(
                "POST", "/apps/accounts/signin",
                json: [
                    "email": "fuzz@example.com", "password": "Tangerine-Orbit-47-Quill", "code": "123456",
                    "recovery_code": "abcde23456",
                ]),
            // reads: body email, password; with MFA on also recovery_code (wins) or code (ignored while MFA is off)
            Seed("POST", "/apps/accounts/refresh", json: ["refresh_token": "rt_fuzzrefreshtoken"]),
            // reads: body refresh_token (401 for an unknown one)
            Seed("POST", "/apps/accounts/signout", json: ["refresh_token": "rt_fuzzrefreshtoken"]),
            // reads: body refresh_token (204 whether or not it is known)
            Seed("GET", "/apps/accounts/userinfo", as: .endUser),
            // reads: nothing but the Authorization header (access token)
            Seed("GET", "/apps/accounts/.well-known/openid-configuration"),
            // reads: nothing
            Seed("GET", "/apps/accounts/.well-known/jwks.json"),
            // reads: nothing
            Seed("POST", "/apps/accounts/keys/rotate"),
            // reads: nothing (admin)

            // MARK: Documents
            Seed("GET", "/apps/documents/files", query: ["category": "0"]),
            // reads: query category (Int id)
            Seed(
                "POST", "/apps/documents/files", query: ["name": "fuzz.txt"],
                raw: (
                    "text/plain; charset=utf-8",
                    "Ada Lovelace wrote to Charles Babbage from London about the Analytical Engine.\nThe Royal Society met in Cambridge.\n"
                )),
            // reads: query name (1–255 chars, no '/'); header Content-Type (text/plain or application/octet-stream, UTF-8 charset);
            //   raw body = UTF-8 text, non-empty, not binary, ≤ max bytes (access .user)
            Seed("DELETE", "/apps/documents/files/{id}", params: ["id": "00000000-0000-0000-0000-000000000000"]),
            // reads: path id (file ids are server-made UUIDs: 404) (access .user)
            Seed("GET", "/apps/documents/files/{id}", params: ["id": "00000000-0000-0000-0000-000000000000"]),
            // reads: path id
            Seed("GET", "/apps/documents/files/{id}/entities", params: ["id": "00000000-0000-0000-0000-000000000000"]),
            // reads: path id
            Seed(
                "GET", "/apps/documents/files/{id}/wordcloud.svg",
                params: ["id": "00000000-0000-0000-0000-000000000000"], query: ["width": "800", "height": "500"]),
            // reads: path id; query width (200–4000), height (150–4000) (read after the file lookup)
            Seed("POST", "/apps/documents/cluster", json: ["k": 2]),
            // reads: body k (Int ≥ 2, optional; empty body allowed) (access .user; 409 with fewer than 3 files)
            Seed("GET", "/apps/documents/categories"),
            // reads: nothing
        ]
    }
}
