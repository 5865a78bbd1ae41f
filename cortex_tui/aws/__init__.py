"""AWS for Kubernetes environments on AWS: node groups (Auto Scaling groups) and CloudWatch.

Credentials come only from boto3's usual chain (env vars, profiles, instance roles); nothing
here stores or prints them. Every failure reaches the user as an `AwsError` (a BackendError,
in `clients`).

Modules: `clients` (boto3 clients, plain errors), `node_groups` (find, check and change bounds),
`cloudwatch_reader` (GetMetricData -> Metrics), `monitoring` (what the Kubernetes backend uses),
`pod_env` (the replica's CloudWatch settings; imports no boto3, for rendering manifests).
"""
