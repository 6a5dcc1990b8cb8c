"""Checks what `sam build` produced: for every function of the template built with
rust-cargolambda, an executable `bootstrap` for the function's architecture (an ELF file for
aarch64 when the template says arm64), and the built template pointing each function at it.

Usage: python scripts/check_sam_build.py template.yaml BUILD_DIR
"""

import os
import pathlib
import struct
import sys

from samtranslator.yaml_helper import yaml_parse

ELF_MACHINES = {"arm64": 183, "x86_64": 62}


def architecture(template, resource):
    own = resource.get("Properties", {}).get("Architectures")
    shared = template.get("Globals", {}).get("Function", {}).get("Architectures", ["x86_64"])
    return (own or shared)[0]


def elf_machine(path):
    header = path.read_bytes()[:20]
    if header[:4] != b"\x7fELF":
        return None
    return struct.unpack_from("<H", header, 18)[0]


def main(template_path, build_dir):
    build_dir = pathlib.Path(build_dir)
    template = yaml_parse(pathlib.Path(template_path).read_text(encoding="utf-8"))
    built = yaml_parse((build_dir / "template.yaml").read_text(encoding="utf-8"))
    problems, checked = [], []
    for name, resource in template["Resources"].items():
        if resource.get("Metadata", {}).get("BuildMethod") != "rust-cargolambda":
            continue
        arch = architecture(template, resource)
        bootstrap = build_dir / name / "bootstrap"
        if not bootstrap.is_file():
            problems.append(f"{name}: no {bootstrap}")
            continue
        if elf_machine(bootstrap) != ELF_MACHINES[arch]:
            problems.append(f"{name}: {bootstrap} is not an {arch} executable")
        if not os.access(bootstrap, os.X_OK):
            problems.append(f"{name}: {bootstrap} is not executable")
        code_uri = built["Resources"][name]["Properties"].get("CodeUri")
        if code_uri != name:
            problems.append(f"{name}: the built template's CodeUri is {code_uri!r}, not {name!r}")
        checked.append(f"{name} ({arch}, {bootstrap.stat().st_size / 2**20:.1f} MiB)")
    if not checked:
        problems.append("the template has no rust-cargolambda function")
    if problems:
        print("sam build: " + "; ".join(problems), file=sys.stderr)
        sys.exit(1)
    print("sam build: " + ", ".join(checked))


if __name__ == "__main__":
    main(*sys.argv[1:])
