"""moto's server mode (`moto_server`), with two AWS behaviours that moto lacks and onwatch's checks
depend on. Run exactly like moto_server: `python server.py -H 127.0.0.1 -p PORT`.

1. PutCompositeAlarm: moto models composite alarms (DescribeAlarms returns them) but has no action
   to create one. It is added here over moto's own backend call.
2. Subscriptions waiting for confirmation: moto confirms every subscription at once. In AWS, email
   and HTTP(S) subscriptions stay "PendingConfirmation" until the recipient confirms, and
   ListSubscriptionsByTopic shows "PendingConfirmation" as their ARN. Here, a subscription whose
   endpoint contains "pending" behaves that way; every other one is confirmed as before.
3. TestEventPattern: moto matches events against rules' patterns (its EventPattern class) but does
   not answer the API that exposes that matching. It is answered here by that same matcher.
4. Step Functions executions: moto runs state machines with its ASL interpreter (a port of
   LocalStack's) only when configured to, and its JSONata evaluator is a stub (LocalStack evaluates
   JSONata in a JVM). Execution is switched on here, and JSONata is evaluated by jsonata-python, a
   port of the reference JSONata implementation. Executions are named when the caller names none
   (moto's interpreter would call every one "None").
5. AssumeRole into a role that does not exist: moto grants it (any ARN, any account). AWS refuses
   with AccessDenied, which is how `scan --organization` meets an account without its role; here it
   is refused unless the role exists in the target account (moto keeps IAM per account).
7. DescribeAlarmHistory: moto keeps no answerable alarm history (it stores the previous state on
   each update, not the transition). Each state change of a metric alarm (SetAlarmState to a
   different state) is recorded here as AWS records a StateUpdate item, and DescribeAlarmHistory
   answers from those records: by alarm name, item type, start and end date, newest first,
   paginated by MaxRecords (AWS's default 100) and NextToken.
6. One account per endpoint: a request to `/accounts/ACCOUNT_ID/...` is served as `/...` in that
   account (moto's `x-moto-account-id` header), so the tests of one process share one server and
   each works in an account of its own (tests/it/harness.rs). Without the prefix, moto's default
   account as before. With `--exit-on-stdin-eof`, the server exits when its stdin closes: the test
   process that started it is gone.
"""

import json
import os
import re
import sys
import threading
import uuid

import jsonata
from moto.core import config as moto_config
from moto.events.models import EventPattern
from moto.events.responses import EventsHandler
from moto.stepfunctions.parser.asl.jsonata import jsonata as sfn_jsonata
from moto.stepfunctions.parser.models import StepFunctionsParserBackend

from moto.cloudwatch.responses import CloudWatchResponse
from moto.core.responses import ActionResult, EmptyResult
from moto.moto_server.werkzeug_app import DomainDispatcherApplication
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


def test_event_pattern(self):
    pattern = EventPattern.load(self._get_param("EventPattern"))
    event = json.loads(self._get_param("Event"))
    return json.dumps({"Result": pattern.matches_event(event)})


EventsHandler.test_event_pattern = test_event_pattern

moto_config.default_user_config["stepfunctions"]["execute_state_machine"] = True
sfn_jsonata._eval_jsonata = lambda expression: jsonata.Jsonata(expression).evaluate(None)

_start_execution = StepFunctionsParserBackend.start_execution


def start_execution(self, state_machine_arn, name=None, *args, **kwargs):
    return _start_execution(self, state_machine_arn, name or str(uuid.uuid4()), *args, **kwargs)


StepFunctionsParserBackend.start_execution = start_execution

from moto.iam.models import iam_backends
from moto.sts.exceptions import STSClientError
from moto.sts.models import STSBackend

_assume_role = STSBackend.assume_role


def assume_role(self, region_name, role_session_name, role_arn, *args, **kwargs):
    parts = role_arn.split(":", 5)
    if len(parts) == 6 and parts[2] == "iam" and parts[5].startswith("role/"):
        account, name = parts[4], parts[5].rsplit("/", 1)[-1]
        roles = iam_backends[account][parts[1]].roles.values()
        if not any(role.name == name for role in roles):
            raise STSClientError(
                "AccessDenied",
                f"User: arn:{parts[1]}:iam::{self.account_id}:user/moto is not authorized to perform: sts:AssumeRole on resource: {role_arn}",
            )
    return _assume_role(self, region_name, role_session_name, role_arn, *args, **kwargs)


STSBackend.assume_role = assume_role


from datetime import datetime, timezone

from moto.cloudwatch.models import Alarm as CloudWatchAlarm

_update_state = CloudWatchAlarm.update_state


def update_state(self, reason, reason_data, state_value):
    old = self.state_value
    _update_state(self, reason, reason_data, state_value)
    if old != state_value:
        if not hasattr(self, "onwatch_state_updates"):
            self.onwatch_state_updates = []
        self.onwatch_state_updates.append((self.state_updated_timestamp, old, state_value))


CloudWatchAlarm.update_state = update_state


def history_date(value):
    """A request's StartDate/EndDate: epoch seconds (JSON and CBOR protocols) or ISO 8601 (query)."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromtimestamp(float(value), timezone.utc)
        except (TypeError, ValueError):
            moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment


def describe_alarm_history(self):
    name = self._get_param("AlarmName")
    item_type = self._get_param("HistoryItemType")
    start, end = history_date(self._get_param("StartDate")), history_date(self._get_param("EndDate"))
    max_records = int(self._get_param("MaxRecords") or 100)
    offset = int(self._get_param("NextToken") or 0)
    items = []
    if item_type in (None, "", "StateUpdate"):
        for alarm in self.cloudwatch_backend.alarms.values():
            if alarm.rule is not None or (name and alarm.name != name):
                continue
            for when, old, new in getattr(alarm, "onwatch_state_updates", []):
                if (start and when < start) or (end and when > end):
                    continue
                items.append({
                    "AlarmName": alarm.name,
                    "AlarmType": "MetricAlarm",
                    "Timestamp": when,
                    "HistoryItemType": "StateUpdate",
                    "HistorySummary": f"Alarm updated from {old} to {new}",
                    "HistoryData": json.dumps({"version": "1.0", "oldState": {"stateValue": old}, "newState": {"stateValue": new}}),
                })
    items.sort(key=lambda item: item["Timestamp"], reverse=True)
    page = items[offset:offset + max_records]
    result = {"AlarmHistoryItems": page}
    if offset + max_records < len(items):
        result["NextToken"] = str(offset + max_records)
    return ActionResult(result)


CloudWatchResponse.describe_alarm_history = describe_alarm_history

ACCOUNT_PATH = re.compile(r"^/accounts/([0-9]{12})(/.*)?$")
_dispatch = DomainDispatcherApplication.__call__


def per_account(self, environ, start_response):
    served = ACCOUNT_PATH.match(environ.get("PATH_INFO", ""))
    if served:
        prefix = f"/accounts/{served.group(1)}"
        environ["HTTP_X_MOTO_ACCOUNT_ID"] = served.group(1)
        environ["PATH_INFO"] = served.group(2) or "/"
        # moto reads the request's URL from these too (werkzeug's server sets both).
        for key in ("RAW_URI", "REQUEST_URI"):
            if environ.get(key, "").startswith(prefix):
                environ[key] = environ[key][len(prefix):] or "/"
    return _dispatch(self, environ, start_response)


DomainDispatcherApplication.__call__ = per_account


def exit_on_stdin_eof():
    sys.stdin.buffer.read()
    os._exit(0)


if __name__ == "__main__":
    arguments = sys.argv[1:]
    if "--exit-on-stdin-eof" in arguments:
        arguments.remove("--exit-on-stdin-eof")
        threading.Thread(target=exit_on_stdin_eof, daemon=True).start()
    main(arguments)
