#!/usr/bin/python3
"""Fails when an #include in Gregor's product code crosses an edge modules.txt does not list.

  check_layering.py --repo DIR          checks the tree (the `layering` CTest test)
  check_layering.py --self-test         checks that a forbidden include is caught

Every .h/.cc under the module paths of modules.txt belongs to the module of the longest path
that owns it; each `#include "x"` of a project path must name a file of the same module or of a
module it may use. Includes of other libraries (<...>, "absl/...", "grpcpp/...") are not ours to
police here; an include of a project folder that no module owns (e.g. tests/) is an error.
"""

import argparse
import os
import re
import shutil
import sys
import tempfile

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')
PROJECT_ROOTS = ("common", "proto", "broker", "controller", "tools", "tests", "deploy")


def read_table(path):
    modules = {}  # name -> (paths, uses)
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            cols = line.split()
            if len(cols) != 3:
                raise SystemExit("%s:%d: want 'module paths may-use'" % (path, n))
            name, paths, uses = cols
            modules[name] = (paths.split(","), set() if uses == "-" else set(uses.split(",")))
    for name, (_, uses) in modules.items():
        for use in uses:
            if use not in modules:
                raise SystemExit("%s: %s may use unknown module %s" % (path, name, use))
    return modules


def owns(prefix, path):
    return path == prefix or path.startswith(prefix + "/") or path.startswith(prefix + ".")


def module_of(modules, path):
    best, best_len = None, -1
    for name, (paths, _) in modules.items():
        for p in paths:
            if owns(p, path) and len(p) > best_len:
                best, best_len = name, len(p)
    return best


def check(repo):
    modules = read_table(os.path.join(repo, "modules.txt"))
    roots = sorted({p.split("/")[0] for paths, _ in modules.values() for p in paths})
    problems, files, edges = [], 0, set()
    for root in roots:
        for dirpath, _, names in os.walk(os.path.join(repo, root)):
            for name in sorted(names):
                if not name.endswith((".h", ".cc")):
                    continue
                full = os.path.join(dirpath, name)
                rel = os.path.relpath(full, repo)
                own = module_of(modules, rel)
                if own is None:
                    continue
                files += 1
                with open(full, errors="replace") as f:
                    for n, line in enumerate(f, 1):
                        m = INCLUDE.match(line)
                        if not m:
                            continue
                        target = m.group(1)
                        if target.split("/")[0] not in PROJECT_ROOTS:
                            continue  # another library's header
                        other = module_of(modules, target)
                        if other is None:
                            problems.append("%s:%d: includes %s, which no module owns" %
                                            (rel, n, target))
                        elif other != own and other not in modules[own][1]:
                            problems.append("%s:%d: includes %s: %s may not use %s (modules.txt)" %
                                            (rel, n, target, own, other))
                        elif other != own:
                            edges.add((own, other))
    return problems, files, edges


def self_test():
    """A copy of a small tree with one forbidden include must fail, and pass without it."""
    tmp = tempfile.mkdtemp(prefix="layering-")
    try:
        with open(os.path.join(tmp, "modules.txt"), "w") as f:
            f.write("common common -\nstorage broker/storage common\n"
                    "kafka_protocol common/kafka common\n")
        os.makedirs(os.path.join(tmp, "broker/storage"))
        os.makedirs(os.path.join(tmp, "common/kafka"))
        with open(os.path.join(tmp, "common/kafka/api.h"), "w") as f:
            f.write('#include "common/status.h"\n')
        log = os.path.join(tmp, "broker/storage/log.cc")
        with open(log, "w") as f:
            f.write('#include "common/status.h"\n#include <vector>\n')
        problems, _, _ = check(tmp)
        if problems:
            print("self-test: a clean tree was rejected: %s" % problems, file=sys.stderr)
            return 1
        with open(log, "a") as f:
            f.write('#include "common/kafka/api.h"  // the log must not know the protocol\n')
        problems, _, _ = check(tmp)
        if len(problems) != 1 or "storage may not use kafka_protocol" not in problems[0]:
            print("self-test: the forbidden include was not caught: %s" % problems,
                  file=sys.stderr)
            return 1
        print("self-test: caught " + problems[0])
        return 0
    finally:
        shutil.rmtree(tmp)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repo")
    parser.add_argument("--self-test", action="store_true")
    args = parser.parse_args()
    if args.self_test:
        return self_test()
    if not args.repo:
        parser.error("--repo is required")
    problems, files, edges = check(args.repo)
    for p in problems:
        print("FORBIDDEN: " + p, file=sys.stderr)
    print("layering: %d files, %d module edges in use, %d forbidden includes" %
          (files, len(edges), len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
