"""The headless core never loads Textual, and the layers only depend inward (import-linter)."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT


def test_the_core_the_report_and_the_view_model_do_not_import_textual():
    code = (
        "import sys, flow.model, flow.classify, flow.report, adapters.files.replay, adapters.scenarios.synthetic, "
        "adapters.session, tui.cli, tui.view.projection, tui.view.details, tui.view.status\n"
        "assert 'textual' not in sys.modules, sorted(m for m in sys.modules if m.startswith('textual'))\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_layers_point_inward():
    lint_imports = ROOT / ".venv" / "bin" / "lint-imports"
    command = [str(lint_imports)] if lint_imports.exists() else ["lint-imports"]
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Contracts: 3 kept, 0 broken" in done.stdout


def test_the_app_paints_before_the_data_side_loads():
    """`flowscope` shows its first frame before pydantic, the readers or the Kafka client load
    (the session thread imports them once the app is on screen); this keeps start-up quick."""
    code = (
        "import sys, tui.cli, tui.app\n"
        "heavy = [m for m in ('pydantic', 'flow.observations', 'flow.model', 'adapters.files.recording', 'aiokafka')"
        " if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
