"""Unit tests of the rollback Lambda handler (rollback.py), with stub AWS clients.

Run: python3 -m unittest discover -s src/stacks/assets -p 'test_*.py'
No AWS access and no boto3 needed: the handler creates boto3 clients lazily and takes stubs.
"""

import contextlib
import io
import json
import os
import pathlib
import sys
import unittest
from unittest import mock

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rollback  # noqa: E402

ENV = {
    "ENVIRONMENT": "production",
    "TABLE_NAME": "kiro-pipeline-production-deployments",
    "PIPELINE_NAME": "kiro-pipeline-production",
    "TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:kiro-pipeline-production-rollbacks",
}


class AwsError(Exception):
    """Shaped like botocore's ClientError: the code is in response['Error']['Code']."""

    def __init__(self, code):
        super().__init__(code)
        self.response = {"Error": {"Code": code, "Message": code}}


class Stub:
    """Records every call; answers from `responses` (method -> list of results, in order);
    an Exception result is raised."""

    def __init__(self, **responses):
        self.calls = []
        self.responses = {k: list(v) for k, v in responses.items()}

    def __getattr__(self, method):
        def call(**kwargs):
            self.calls.append((method, kwargs))
            queue = self.responses.get(method)
            result = queue.pop(0) if queue else {}
            if isinstance(result, Exception):
                raise result
            return result

        return call

    def called(self, method):
        return [kw for m, kw in self.calls if m == method]


def deployment(ts, execution="exec-1"):
    item = {
        "deploymentId": {"S": f"production#{ts}"},
        "environment": {"S": "production"},
        "status": {"S": "in_progress"},
    }
    if execution:
        item["pipelineExecutionId"] = {"S": execution}
    return item


def alarm_event(name, state="ALARM", reason="Threshold Crossed: 1 datapoint [5.0] >= 4.0"):
    return {
        "version": "0",
        "detail-type": "CloudWatch Alarm State Change",
        "source": "aws.cloudwatch",
        "detail": {"alarmName": name, "state": {"value": state, "reason": reason}},
    }


class RollbackTest(unittest.TestCase):
    def setUp(self):
        patcher = mock.patch.dict(os.environ, ENV, clear=False)
        patcher.start()
        self.addCleanup(patcher.stop)
        os.environ.pop("NAME_PREFIX", None)
        self.ddb = Stub(query=[{"Items": [deployment(1706313600000, "exec-1")]}])
        self.pipeline = Stub()
        self.sns = Stub()
        self.cw = Stub()

    def clients(self):
        return {"dynamodb": self.ddb, "codepipeline": self.pipeline, "sns": self.sns, "cloudwatch": self.cw}

    def run_handler(self, event):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            try:
                result = rollback.handler(event, None, clients=self.clients())
            finally:
                self.logs = [json.loads(line) for line in out.getvalue().splitlines()]
        return result

    def assert_untouched(self, *stubs):
        for stub in stubs:
            self.assertEqual(stub.calls, [], f"unexpected AWS calls: {stub.calls}")

    def test_alarm_of_another_environment_is_ignored(self):
        for name in [
            "kiro-pipeline-test-failures",  # a test alarm must never roll back production
            "kiro-pipeline-staging-duration",
            "kiro-worker-test-error-rate",
            "kiro-pipeline-failures",  # the seed's bare prefix
            "kiro-pipeline-production2-failures",  # shares the text prefix, not the environment
            "other-production-failures",
            "",
        ]:
            with self.subTest(alarm=name):
                self.assertEqual(self.run_handler(alarm_event(name)), {"status": "ignored"})
        self.assert_untouched(self.ddb, self.pipeline, self.sns, self.cw)
        self.assertEqual(self.logs[0]["level"], "INFO")

    def test_state_other_than_alarm_is_ignored(self):
        for state in ["OK", "INSUFFICIENT_DATA", None]:
            with self.subTest(state=state):
                result = self.run_handler(alarm_event("kiro-pipeline-production-failures", state=state))
                self.assertEqual(result, {"status": "ignored"})
        self.assertEqual(self.run_handler({"detail-type": "Scheduled Event", "detail": {}}), {"status": "ignored"})
        self.assert_untouched(self.ddb, self.pipeline, self.sns, self.cw)

    def test_no_in_progress_deployment_changes_nothing(self):
        self.ddb = Stub(query=[{"Items": []}])
        result = self.run_handler(alarm_event("kiro-pipeline-production-failures"))
        self.assertEqual(result, {"status": "no_deployment"})
        self.assertEqual(len(self.ddb.called("query")), 1)
        self.assertEqual(self.ddb.called("update_item"), [])
        self.assert_untouched(self.pipeline, self.sns, self.cw)
        self.assertEqual(self.logs[-1]["level"], "WARN")

    def test_happy_path_stops_records_notifies_and_counts(self):
        # two pages; the newest in-progress deployment is on the first page
        self.ddb = Stub(
            query=[
                {"Items": [deployment(1706313600000, "exec-old"), deployment(1706400000000, "exec-new")],
                 "LastEvaluatedKey": {"deploymentId": {"S": "production#1706400000000"}}},
                {"Items": [deployment(1706350000000, "exec-mid")]},
            ]
        )
        with mock.patch.object(rollback.time, "time", return_value=1706400123.9):
            result = self.run_handler(alarm_event("kiro-pipeline-production-failures"))
        self.assertEqual(result, {"status": "rolled_back", "deploymentId": "production#1706400000000"})

        queries = self.ddb.called("query")
        self.assertEqual(len(queries), 2)
        self.assertEqual(queries[0]["IndexName"], "EnvironmentStatusIndex")
        self.assertEqual(queries[0]["TableName"], ENV["TABLE_NAME"])
        self.assertEqual(
            queries[0]["ExpressionAttributeValues"], {":e": {"S": "production"}, ":s": {"S": "in_progress"}}
        )
        self.assertEqual(queries[0]["ExpressionAttributeNames"], {"#e": "environment", "#s": "status"})
        self.assertEqual(queries[1]["ExclusiveStartKey"], {"deploymentId": {"S": "production#1706400000000"}})

        (stop,) = self.pipeline.called("stop_pipeline_execution")
        self.assertEqual(stop["pipelineName"], "kiro-pipeline-production")
        self.assertEqual(stop["pipelineExecutionId"], "exec-new")
        self.assertIs(stop["abandon"], True)
        self.assertIn("kiro-pipeline-production-failures", stop["reason"])
        self.assertLessEqual(len(stop["reason"]), 200)

        (update,) = self.ddb.called("update_item")
        self.assertEqual(update["Key"], {"deploymentId": {"S": "production#1706400000000"}})
        values = update["ExpressionAttributeValues"]
        self.assertEqual(values[":s"], {"S": "rolled_back"})
        self.assertEqual(values[":l"], {"S": "stage"})
        self.assertEqual(values[":t"], {"N": "1706400123"})
        self.assertIn("Threshold Crossed", values[":r"]["S"])
        for field in ["#s=:s", "rollbackReason=:r", "rollbackLevel=:l", "rollbackTime=:t"]:
            self.assertIn(field, update["UpdateExpression"])
        self.assertEqual(update["ExpressionAttributeNames"], {"#s": "status"})
        self.assertEqual(update["ConditionExpression"], "#s = :p")
        self.assertEqual(values[":p"], {"S": "in_progress"})

        (publish,) = self.sns.called("publish")
        self.assertEqual(publish["TopicArn"], ENV["TOPIC_ARN"])
        message = json.loads(publish["Message"])
        self.assertEqual(message["event"], "automated_rollback")
        self.assertEqual(message["deploymentId"], "production#1706400000000")
        self.assertEqual(message["pipelineExecutionId"], "exec-new")
        self.assertEqual(message["environment"], "production")
        self.assertEqual(message["rollbackLevel"], "stage")

        (metric,) = self.cw.called("put_metric_data")
        self.assertEqual(metric["Namespace"], "KiroPipeline")
        (datum,) = metric["MetricData"]
        self.assertEqual(datum["MetricName"], "RollbackCount")
        self.assertEqual(datum["Dimensions"], [{"Name": "Environment", "Value": "production"}])
        self.assertEqual(datum["Value"], 1)

        self.assertEqual(self.logs[-1]["message"], "rolled back")
        self.assertEqual(self.logs[-1]["deploymentId"], "production#1706400000000")

    def test_application_alarm_of_this_environment_triggers_rollback(self):
        result = self.run_handler(alarm_event("kiro-worker-production-error-rate"))
        self.assertEqual(result["status"], "rolled_back")
        self.assertEqual(len(self.pipeline.called("stop_pipeline_execution")), 1)

    def test_name_prefix_comes_from_the_environment(self):
        os.environ["NAME_PREFIX"] = "acme-cd"
        self.assertEqual(self.run_handler(alarm_event("kiro-pipeline-production-failures"))["status"], "ignored")
        self.assertEqual(self.run_handler(alarm_event("acme-cd-production-failures"))["status"], "rolled_back")

    def test_deployment_without_execution_id_is_still_recorded(self):
        self.ddb = Stub(query=[{"Items": [deployment(1706313600000, execution=None)]}])
        result = self.run_handler(alarm_event("kiro-pipeline-production-duration"))
        self.assertEqual(result["status"], "rolled_back")
        self.assert_untouched(self.pipeline)
        self.assertEqual(len(self.ddb.called("update_item")), 1)

    def test_already_stopped_execution_is_not_an_error(self):
        self.pipeline = Stub(stop_pipeline_execution=[AwsError("PipelineExecutionNotStoppableException")])
        result = self.run_handler(alarm_event("kiro-pipeline-production-failures"))
        self.assertEqual(result["status"], "rolled_back")
        self.assertEqual(len(self.sns.called("publish")), 1)

    def test_deployment_rolled_back_concurrently_is_not_counted_twice(self):
        self.ddb = Stub(
            query=[{"Items": [deployment(1706313600000)]}],
            update_item=[AwsError("ConditionalCheckFailedException")],
        )
        result = self.run_handler(alarm_event("kiro-pipeline-production-failures"))
        self.assertEqual(result, {"status": "already_rolled_back"})
        self.assert_untouched(self.sns, self.cw)

    def test_failures_are_logged_and_raised_for_retry_and_dlq(self):
        cases = {
            "stop": lambda: setattr(self, "pipeline", Stub(stop_pipeline_execution=[AwsError("AccessDeniedException")])),
            "query": lambda: setattr(self, "ddb", Stub(query=[AwsError("ResourceNotFoundException")])),
            "update": lambda: setattr(
                self,
                "ddb",
                Stub(query=[{"Items": [deployment(1)]}], update_item=[AwsError("ProvisionedThroughputExceededException")]),
            ),
            "publish": lambda: setattr(self, "sns", Stub(publish=[AwsError("KMSAccessDeniedException")])),
        }
        for what, arrange in cases.items():
            with self.subTest(failing=what):
                self.setUp()
                arrange()
                with self.assertRaises(AwsError):
                    self.run_handler(alarm_event("kiro-pipeline-production-failures"))
                self.assertEqual(self.logs[-1]["level"], "ERROR")
                self.assertEqual(self.logs[-1]["alarmName"], "kiro-pipeline-production-failures")
                self.assertEqual(self.cw.called("put_metric_data"), [], "a failed rollback is not counted")
        # a failed stop leaves the deployment record untouched
        self.setUp()
        self.pipeline = Stub(stop_pipeline_execution=[AwsError("AccessDeniedException")])
        with self.assertRaises(AwsError):
            self.run_handler(alarm_event("kiro-pipeline-production-failures"))
        self.assertEqual(self.ddb.called("update_item"), [])

    def test_missing_configuration_raises(self):
        del os.environ["TABLE_NAME"]
        with self.assertRaises(KeyError):
            self.run_handler(alarm_event("kiro-pipeline-production-failures"))


class PackagingTest(unittest.TestCase):
    def test_fits_cloudformation_inline_zipfile_limit(self):
        source = pathlib.Path(rollback.__file__).read_bytes()
        self.assertLess(len(source), 4096)

    def test_boto3_is_imported_lazily(self):
        # the module must import where boto3 is absent (tests, CI); only client() imports it
        with mock.patch.dict(sys.modules, {"boto3": None}):
            import importlib

            importlib.reload(rollback)
        self.assertEqual(rollback._clients, {})


if __name__ == "__main__":
    unittest.main()
