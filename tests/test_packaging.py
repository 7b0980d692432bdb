"""A non-editable install carries queries/ and the reference schema, and runs from anywhere."""

from __future__ import annotations

import json
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def installed_paths(python: Path) -> dict[str, str]:
    """The install paths (purelib, platlib, ...) of another interpreter."""
    code = "import json, sysconfig; print(json.dumps(sysconfig.get_paths()))"
    done = subprocess.run([str(python), "-c", code], check=True, capture_output=True, text=True)
    return json.loads(done.stdout)


def test_the_wheel_runs_a_query_from_its_installed_copy(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(wheels),
            str(REPO),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = wheels.glob("adminui-*.whl")
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python, adminui = env_dir / "bin" / "python", env_dir / "bin" / "adminui"
    # The dependencies come from the environment running the tests (a virtualenv or the bare
    # interpreter: `system_site_packages` would see the base interpreter's, not a virtualenv's),
    # as plain path entries: that environment's own .pth files, among them an editable
    # install's, are not read, so adminui itself can only come from the wheel.
    site_packages = installed_paths(python)["purelib"]
    outer = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    Path(site_packages, "test-dependencies.pth").write_text("\n".join(sorted(outer)) + "\n")
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)],
        check=True,
        capture_output=True,
    )

    def installed(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(args, cwd=tmp_path, capture_output=True, text=True, check=True)

    where = installed(
        str(python),
        "-c",
        "import adminui.queries as q; print(q.__file__); print(q.default_query_dir())",
    ).stdout.split()
    assert len(where) == 2 and all(path.startswith(str(env_dir)) for path in where), where
    assert Path(where[1], "idea_expansion", "users.sql").is_file()

    demo = tmp_path / "demo.sqlite"
    installed(str(adminui), "demo", "--path", str(demo), "--users", "25", "--no-open")
    out = installed(
        str(adminui), "--url", f"sqlite:///{demo}", "users", "find", "example", "--format", "json"
    ).stdout
    assert isinstance(json.loads(out), list)
