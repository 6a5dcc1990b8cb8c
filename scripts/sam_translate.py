"""Translate template.yaml (SAM) into the plain CloudFormation that AWS would deploy, so
cfn-lint checks the real resources (cfn-lint on the raw SAM file misses most errors).

Usage: python scripts/sam_translate.py template.yaml > target/template.cfn.json
Runs offline: the template uses inline IAM statements only, so no managed-policy lookup.
"""

import json
import os
import sys

from samtranslator.model.exceptions import InvalidDocumentException
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse


class NoManagedPolicies:
    """The template names no AWS managed policies; refuse to look any up."""

    def load(self):
        return {}


def main(path):
    # Pseudo-parameters (AWS::Region) need a region; any will do for linting.
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    with open(path, encoding="utf-8") as source:
        template = yaml_parse(source.read())
    # `sam package` replaces local code paths by S3 locations before the transform runs.
    for name, resource in template.get("Resources", {}).items():
        properties = resource.get("Properties", {})
        if resource.get("Type") == "AWS::Serverless::Function" and "CodeUri" in properties:
            properties["CodeUri"] = f"s3://packaged-code/{name}.zip"
    try:
        translated = transform(template, {}, NoManagedPolicies())
    except InvalidDocumentException as error:
        for cause in error.causes:
            print(f"{path}: {cause.message}", file=sys.stderr)
        return 1
    json.dump(translated, sys.stdout, indent=2, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
