#!/usr/bin/env python3
"""Vendor the CloudFormation resource provider schemas kiro-infra validates against.

Source: the schema bundle inside the cfn-lint wheel on PyPI (cfnlint/data/schemas/):
providers/us-east-1.json maps each resource type to a file in resources/.

Usage:  python3 scripts/vendor-schemas.py [--wheel path/to/cfn_lint-*.whl]
Without --wheel it runs `pip download --no-deps cfn-lint==1.58.*` into a temp dir.
Writes schemas/<aws-service-type>.json, schemas/types.txt and schemas/SOURCE.md (deterministic).
Python 3 standard library only.
"""

import argparse
import glob
import json
import os
import subprocess
import sys
import tempfile
import zipfile

PIN = "cfn-lint==1.58.*"
REGION = "us-east-1"
TYPES = [
    "AWS::KMS::Key",
    "AWS::KMS::Alias",
    "AWS::S3::Bucket",
    "AWS::S3::BucketPolicy",
    "AWS::DynamoDB::Table",
    "AWS::Logs::LogGroup",
    "AWS::CodePipeline::Pipeline",
    "AWS::CodePipeline::Webhook",
    "AWS::CodeBuild::Project",
    "AWS::IAM::Role",
    "AWS::IAM::Policy",
    "AWS::IAM::ManagedPolicy",
    "AWS::CloudWatch::Alarm",
    "AWS::CloudWatch::Dashboard",
    "AWS::SNS::Topic",
    "AWS::SNS::Subscription",
    "AWS::SNS::TopicPolicy",
    "AWS::Lambda::Function",
    "AWS::Lambda::Permission",
    "AWS::SQS::Queue",
    "AWS::SQS::QueuePolicy",
    "AWS::Events::Rule",
]
PREFIX = "cfnlint/data/schemas/"


def file_name(type_name):
    return type_name.lower().replace("::", "-") + ".json"


def download(dest):
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", PIN, "-d", dest]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    wheels = sorted(glob.glob(os.path.join(dest, "cfn_lint-*.whl")))
    if not wheels:
        sys.exit("pip download produced no cfn_lint wheel")
    return wheels[-1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheel", help="an already downloaded cfn_lint wheel")
    parser.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "schemas"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        wheel = args.wheel or download(tmp)
        version = os.path.basename(wheel).split("-")[1]
        with zipfile.ZipFile(wheel) as z:
            index = json.loads(z.read(PREFIX + "providers/" + REGION + ".json"))
            schema_date = json.loads(z.read(PREFIX + "version.json")).get("schema_date", "unknown")
            out = os.path.normpath(args.out)
            os.makedirs(out, exist_ok=True)
            for old in glob.glob(os.path.join(out, "*.json")):
                os.remove(old)
            for type_name in TYPES:
                if type_name not in index:
                    sys.exit(f"{type_name} is not in the {REGION} index of cfn-lint {version}")
                schema = json.loads(z.read(PREFIX + "resources/" + index[type_name] + ".json"))
                with open(os.path.join(out, file_name(type_name)), "w", encoding="utf-8") as f:
                    json.dump(schema, f, indent=1, sort_keys=True, ensure_ascii=False)
                    f.write("\n")
            with open(os.path.join(out, "types.txt"), "w", encoding="utf-8") as f:
                for type_name in sorted(index):
                    f.write(type_name + "\n")
    with open(os.path.join(out, "SOURCE.md"), "w", encoding="utf-8") as f:
        f.write(SOURCE.format(version=version, date=schema_date, region=REGION, count=len(index), n=len(TYPES)))
    print(f"vendored {len(TYPES)} schemas from cfn-lint {version} (schema date {schema_date}); {len(index)} types known")


SOURCE = """# Vendored CloudFormation resource provider schemas

- Package: `cfn-lint` {version} (PyPI wheel), directory `cfnlint/data/schemas/`
- Schema date (`cfnlint/data/schemas/version.json`): {date}
- Region index: `providers/{region}.json` -> `resources/<hash>.json`
- `*.json` here: the {n} resource types kiro-infra emits, one file per type
  (`AWS::S3::Bucket` -> `aws-s3-bucket.json`), re-serialised with sorted keys and one-space indent.
- `types.txt`: every resource type name in the {region} index ({count} types), so the validator can tell
  "not a CloudFormation type" (error) from "real type whose schema is not vendored" (warning).

## Raw or patched?

These are NOT the raw provider schemas AWS publishes (`CloudformationSchema.zip`). cfn-lint's build
applies its own patches when it pulls them: it adds keywords outside the provider meta-schema
(`requiredXor`, `requiredOr`, `dependentExcluded`, `uniqueKeys`, `maxUniqueItems`, `prefixItems`),
AWS-specific `format`s (`AWS::IAM::Role.Arn`, `AWS::KMS::Key.Arn`, ...), extra enums and patterns.
The property trees, `readOnlyProperties`, `createOnlyProperties`, `writeOnlyProperties`,
`conditionalCreateOnlyProperties` and `insertionOrder` come from the provider schemas.
cfn-lint's runtime-only extensions (`cfnlint/data/schemas/extensions/`) are not vendored.

## Regenerate

    python3 scripts/vendor-schemas.py            # pip download --no-deps cfn-lint==1.58.* into a temp dir
    python3 scripts/vendor-schemas.py --wheel cfn_lint-1.58.0-py3-none-any.whl

To add a type: append it to TYPES in the script, rerun, commit `schemas/`, and add it to
`src/validate/schema.rs` (`VENDORED`).
"""

if __name__ == "__main__":
    main()
