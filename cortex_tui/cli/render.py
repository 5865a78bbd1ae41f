"""`cortex-tui render`: the Kubernetes manifests of a project, for kubectl apply / GitOps."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cortex_tui.cli import add_env_option, add_project_option


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "render",
        help="write the Kubernetes manifests of the project (for kubectl apply)",
        description="Render each API's ConfigMap, Deployment, Service and HorizontalPodAutoscaler "
        "from k8s_templates/. Without -o, prints them as one YAML stream.",
    )
    add_project_option(parser)
    add_env_option(parser)
    parser.add_argument(
        "-o", "--output", metavar="DIR", help="write namespace.yaml and one NAME.yaml per API here"
    )
    parser.add_argument(
        "--ingress", action="store_true", help="add an Ingress routing /<api-name> to each API"
    )
    parser.add_argument("--ingress-class", metavar="CLASS", help="ingressClassName of the Ingress")
    parser.add_argument(
        "--pod-monitor", action="store_true",
        help="add a Prometheus Operator PodMonitor scraping each API's pods one by one",
    )
    parser.add_argument(
        "--network-policy", action="store_true",
        help="add a NetworkPolicy admitting only the ingress controller and Prometheus",
    )
    parser.add_argument(
        "--dockerfile", action="store_true",
        help="instead, write a Dockerfile (and .dockerignore) into the project folder for a "
        "project image: the predictor image with the project and its requirements built in",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from cortex_tui.backends import render_manifests
    from cortex_tui.config import load_project

    project = load_project(args.path)
    if args.dockerfile:
        from cortex_tui.backends import write_dockerfile

        for path in write_dockerfile(project, args.env):
            print(path)
        return 0
    rendered = render_manifests(
        project, args.env, ingress=args.ingress, ingress_class=args.ingress_class,
        pod_monitor=args.pod_monitor, network_policy=args.network_policy,
    )
    for name in rendered.too_large_for_client_side_apply():
        print(
            f"note: {name} is over 256 KiB: apply it with `kubectl apply --server-side` (plain "
            "`kubectl apply` keeps a copy in an annotation, limited to 256 KiB)",
            file=sys.stderr,
        )
    if not args.output:
        sys.stdout.write(rendered.as_stream())
        if rendered.pod_monitor is not None:
            print("note: autoscale_on: in_flight needs Prometheus (with its operator) and "
                  "prometheus-adapter in the cluster: -o DIR also writes their PodMonitor and "
                  "adapter rule (see README)", file=sys.stderr)
        return 0
    try:
        written = rendered.write(Path(args.output))
    except OSError as exc:
        where = exc.filename or args.output
        print(f"error: cannot write the manifests to {where}: {exc.strerror or exc}",
              file=sys.stderr)
        return 1
    for path in written:
        print(path)
    if rendered.bundle_uri:
        print(
            f"upload {written[-1]} to {rendered.bundle_uri} before applying "
            "(cortex-tui deploy does it for you)",
            file=sys.stderr,
        )
    return 0
