"""moto's server mode (`moto_server`), with two AWS behaviours that moto lacks and onwatch's checks
depend on. Run exactly like moto_server: `python server.py -H 127.0.0.1 -p PORT`.

1. PutCompositeAlarm: moto models composite alarms (DescribeAlarms returns them) but has no action
   to create one. It is added here over moto's own backend call.
2. Subscriptions waiting for confirmation: moto confirms every subscription at once. In AWS, email
   and HTTP(S) subscriptions stay "PendingConfirmation" until the recipient confirms, and
   ListSubscriptionsByTopic shows "PendingConfirmation" as their ARN. Here, a subscription whose
   endpoint contains "pending" behaves that way; every other one is confirmed as before.
"""

import sys

from moto.cloudwatch.responses import CloudWatchResponse
from moto.core.responses import EmptyResult
from moto.server import main
from moto.sns.models import SNSBackend


def put_composite_alarm(self):
    self.cloudwatch_backend.put_metric_alarm(
        name=self._get_param("AlarmName"),
        namespace=None,
        metric_name=None,
        comparison_operator=None,
        evaluation_periods=None,
        period=None,
        threshold=None,
        statistic=None,
        description=self._get_param("AlarmDescription"),
        dimensions=[],
        alarm_actions=self._get_param("AlarmActions", []),
        ok_actions=self._get_param("OKActions", []),
        insufficient_data_actions=self._get_param("InsufficientDataActions", []),
        actions_enabled=self._get_param("ActionsEnabled", True),
        rule=self._get_param("AlarmRule"),
    )
    return EmptyResult()


CloudWatchResponse.put_composite_alarm = put_composite_alarm

_subscribe = SNSBackend.subscribe


def subscribe(self, topic_arn, endpoint, protocol):
    subscription = _subscribe(self, topic_arn, endpoint, protocol)
    if protocol in ("email", "email-json", "http", "https") and "pending" in endpoint:
        subscription.arn = "PendingConfirmation"
        subscription.confirmed = False
        subscription.attributes["PendingConfirmation"] = "true"
    return subscription


SNSBackend.subscribe = subscribe

if __name__ == "__main__":
    main(sys.argv[1:])
