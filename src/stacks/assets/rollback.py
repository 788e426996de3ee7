"""An ALARM of this environment rolls back its in-progress deployment (stage level)."""
import json
import os
import time

E = os.environ
_clients = {}  # boto3 clients, made lazily; tests pass stubs


def client(cache, name):
  if name not in cache:
    import boto3
    cache[name] = boto3.client(name)
  return cache[name]


def log(level, msg, **kw):
  print(json.dumps({"level": level, "message": msg, **kw}, default=str))


def code(err):  # botocore ClientError code, or the stub's class name
  return getattr(err, "response", {}).get("Error", {}).get("Code") or type(err).__name__


def in_progress(ddb, table, env):
  q = dict(
    TableName=table, IndexName="EnvironmentStatusIndex", KeyConditionExpression="#e = :e AND #s = :s",
    ExpressionAttributeNames={"#e": "environment", "#s": "status"},
    ExpressionAttributeValues={":e": {"S": env}, ":s": {"S": "in_progress"}})
  items = []
  while True:
    page = ddb.query(**q)
    items += page.get("Items", [])
    if not page.get("LastEvaluatedKey"):  # newest; ids are "{env}#{epoch_ms}"
      return max(items, key=lambda i: i["deploymentId"]["S"], default=None)
    q["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def handler(event, context=None, clients=None):
  cache = _clients if clients is None else clients
  env = E["ENVIRONMENT"]
  own = (E.get("NAME_PREFIX", "kiro-pipeline") + f"-{env}-", f"kiro-worker-{env}-")
  d = event.get("detail") or {}
  alarm, state = str(d.get("alarmName", "")), d.get("state") or {}
  ctx = {"environment": env, "alarmName": alarm}
  if state.get("value") != "ALARM" or not alarm.startswith(own):
    log("INFO", "ignored: not our ALARM", **ctx)
    return {"status": "ignored"}
  try:
    table, ddb = E["TABLE_NAME"], client(cache, "dynamodb")
    dep = in_progress(ddb, table, env)
    if dep is None:
      log("WARN", "no in-progress deployment", **ctx)
      return {"status": "no_deployment"}
    dep_id = dep["deploymentId"]["S"]
    exe = dep.get("pipelineExecutionId", {}).get("S")
    reason = f"Alarm {alarm}: {state.get('reason') or 'ALARM'}"
    ctx.update(deploymentId=dep_id, pipelineExecutionId=exe)
    if exe:
      try:
        client(cache, "codepipeline").stop_pipeline_execution(
          pipelineName=E["PIPELINE_NAME"], pipelineExecutionId=exe, abandon=True, reason=reason[:200])
      except Exception as err:  # already stopped/finished is fine (retries)
        if code(err) not in ("PipelineExecutionNotStoppableException", "DuplicatedStopRequestException"):
          raise
    now = int(time.time())
    try:  # rollbackTime/endTime: epoch seconds (N), as the rollback runbook reads them
      ddb.update_item(
        TableName=table, Key={"deploymentId": {"S": dep_id}}, ConditionExpression="#s = :p",
        UpdateExpression="SET #s=:s, rollbackReason=:r, rollbackLevel=:l, rollbackTime=:t, endTime=:t",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={
          ":s": {"S": "rolled_back"}, ":p": {"S": "in_progress"}, ":r": {"S": reason},
          ":l": {"S": "stage"}, ":t": {"N": str(now)}})
    except Exception as err:
      if code(err) != "ConditionalCheckFailedException":
        raise
      log("WARN", "already rolled back", **ctx)
      return {"status": "already_rolled_back"}
    msg = {"event": "automated_rollback", "rollbackLevel": "stage", "reason": reason, "rollbackTime": now, **ctx}
    client(cache, "sns").publish(TopicArn=E["TOPIC_ARN"], Subject=f"Rollback {env}", Message=json.dumps(msg))
    dim = [{"Name": "Environment", "Value": env}]
    client(cache, "cloudwatch").put_metric_data(Namespace="KiroPipeline", MetricData=[
      {"MetricName": "RollbackCount", "Dimensions": dim, "Value": 1, "Unit": "Count"}])
    log("INFO", "rolled back", **ctx)
    return {"status": "rolled_back", "deploymentId": dep_id}
  except Exception as err:  # logged, then raised: Lambda retries, then the DLQ
    log("ERROR", "rollback failed", error=repr(err), **ctx)
    raise
