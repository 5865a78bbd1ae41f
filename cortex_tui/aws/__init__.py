"""AWS for Kubernetes environments on AWS: node groups (Auto Scaling groups) and CloudWatch.

Credentials come only from boto3's usual chain (env vars, profiles, instance roles); nothing
here stores or prints them. Every failure reaches the user as an `AwsError` (a BackendError).
"""

from cortex_tui.aws.clients import AwsError, aws_client, aws_errors

__all__ = ["AwsError", "aws_client", "aws_errors"]
