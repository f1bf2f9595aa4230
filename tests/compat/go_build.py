"""Builds a Go program on Debian's sarama (golang-github-shopify-sarama-dev) in GOPATH mode, as
the sarama tests need it (Debian packages Go libraries for GOPATH builds, not modules)."""

import os
import shutil
import subprocess

GOPATH_SYSTEM = "/usr/share/gocode"


def build_sarama_program(source, workdir, name):
    """Copies the one-file program `source` into a GOPATH under `workdir` and builds it;
    returns the binary's path. Fails (assert) with the compiler's output."""
    go = shutil.which("go") or "/usr/bin/go"
    assert os.path.exists(go), "go is not installed: run deploy/install-deps.sh (golang-go)"
    assert os.path.isdir(os.path.join(GOPATH_SYSTEM, "src/github.com/Shopify/sarama")), (
        "sarama is not installed: run deploy/install-deps.sh (golang-github-shopify-sarama-dev)")
    gopath = os.path.join(str(workdir), "gopath")
    src = os.path.join(gopath, "src", name)
    os.makedirs(src, exist_ok=True)
    shutil.copy(source, src)
    binary = os.path.join(gopath, name)
    env = dict(os.environ, GO111MODULE="off", GOPATH="%s:%s" % (gopath, GOPATH_SYSTEM),
               GOCACHE=os.path.join(gopath, "cache"), GOFLAGS="")
    p = subprocess.run([go, "build", "-o", binary, "."], cwd=src, env=env,
                       capture_output=True, timeout=600)
    assert p.returncode == 0, p.stderr.decode("utf-8", "replace")[-4000:]
    return binary
