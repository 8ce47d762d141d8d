/// The policies and groups a new installation starts with.
extension IAM {
    /// The seed's groups: a policy and a group of the same name for each, every writer group also reading. Least
    /// privilege: an admin function needs its own action (`sensors:Share`, `classifier:Train`), which `functions:*`
    /// does not grant; the audit trail's retention and filters, and the `Plumb/` namespaces, are the admin token's.
    static let seeds: [(String, String)] = [
        (
            "read-only",
            #"{"Version": "2012-10-17", "Statement": [{"Sid": "ReadEverything", "Effect": "Allow", "Action": ["*:Get*", "*:List*"], "Resource": "*"}]}"#
        ),
        (
            "frontend-writer",
            #"{"Version": "2012-10-17", "Statement": [{"Sid": "FrontendFunctions", "Effect": "Allow", "Action": "functions:*", "Resource": ["function/chat.*", "function/sentiment.*", "function/support.*"]}, {"Sid": "Connections", "Effect": "Allow", "Action": "connections:*", "Resource": "connection/*"}]}"#
        ),
        (
            "backend-writer",
            #"{"Version": "2012-10-17", "Statement": [{"Sid": "BackendFunctions", "Effect": "Allow", "Action": "functions:*", "Resource": ["function/sensors.*", "function/classifier.*"]}, {"Sid": "SensorRegistry", "Effect": "Allow", "Action": ["sensors:CreateProject", "sensors:CreateSite", "sensors:CreateDetector", "sensors:Deploy", "sensors:DeliverNow", "sensors:ScoreNow"], "Resource": "function/sensors.*"}, {"Sid": "NotTraining", "Effect": "Deny", "Action": "functions:*", "Resource": ["function/classifier.train", "function/classifier.upload-dataset", "function/classifier.promote", "function/classifier.rollback"]}]}"#
        ),
        (
            "monitoring-writer",
            #"{"Version": "2012-10-17", "Statement": [{"Sid": "Alarms", "Effect": "Allow", "Action": "alarms:*", "Resource": "alarm/*"}, {"Sid": "Topics", "Effect": "Allow", "Action": "topics:*", "Resource": ["topic/*", "subscription/*", "delivery/*"]}, {"Sid": "Metrics", "Effect": "Allow", "Action": "metrics:PutMetricData", "Resource": "metric/*"}, {"Sid": "Filters", "Effect": "Allow", "Action": ["logs:PutMetricFilter", "logs:DeleteMetricFilter"], "Resource": "metric-filter/*"}, {"Sid": "Retention", "Effect": "Allow", "Action": "logs:PutRetentionPolicy", "Resource": "log-group/*"}]}"#
        ),
        (
            "training-writer",
            #"{"Version": "2012-10-17", "Statement": [{"Sid": "Training", "Effect": "Allow", "Action": ["functions:InvokeFunction", "classifier:Train", "classifier:UploadDataset", "classifier:Promote", "classifier:Rollback"], "Resource": ["function/classifier.train", "function/classifier.upload-dataset", "function/classifier.promote", "function/classifier.rollback"]}]}"#
        ),
    ]

    /// Seed documents of earlier releases, replaced by the current seed when an installation still has them unchanged.
    static let earlierSeeds: [(String, String)] = [
        (
            "backend-writer",
            #"{"Version": "2012-10-17", "Statement": [{"Sid": "BackendFunctions", "Effect": "Allow", "Action": "functions:*", "Resource": ["function/sensors.*", "function/classifier.*"]}, {"Sid": "NotTraining", "Effect": "Deny", "Action": "functions:*", "Resource": ["function/classifier.train", "function/classifier.upload-dataset", "function/classifier.promote", "function/classifier.rollback"]}]}"#
        ),
        (
            "monitoring-writer",
            #"{"Version": "2012-10-17", "Statement": [{"Sid": "Alarms", "Effect": "Allow", "Action": "alarms:*", "Resource": "alarm/*"}, {"Sid": "Topics", "Effect": "Allow", "Action": "topics:*", "Resource": ["topic/*", "subscription/*", "delivery/*"]}, {"Sid": "MetricsAndFilters", "Effect": "Allow", "Action": ["metrics:PutMetricData", "logs:PutMetricFilter", "logs:DeleteMetricFilter", "logs:PutRetentionPolicy"], "Resource": "*"}]}"#
        ),
        (
            "training-writer",
            #"{"Version": "2012-10-17", "Statement": [{"Sid": "Training", "Effect": "Allow", "Action": "functions:InvokeFunction", "Resource": ["function/classifier.train", "function/classifier.upload-dataset", "function/classifier.promote", "function/classifier.rollback"]}]}"#
        ),
    ]
}
