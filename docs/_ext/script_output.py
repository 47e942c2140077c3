"""The ``script-output`` directive: run a script while the site builds and show what it printed.

The getting-started page shows the quickstart's real output without pasting
it by hand, so it cannot go stale::

    .. script-output:: ../examples/quickstart.py

The path is relative to the page, as for ``literalinclude``. The script runs
with the interpreter that runs Sphinx, from the repository root (the folder
above the documentation), and its standard output becomes a literal block. A
script that fails, or runs past ``:timeout:`` seconds (default 300), fails
the build. When ``script_output_run`` is false (``SKQAT_DOCS_GALLERY=none``,
which runs no example), the block says that the script was not run instead.
The page is read again when the script changes.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective


class ScriptOutput(SphinxDirective):
    """Run a Python script and insert its standard output as a literal block."""

    required_arguments = 1
    option_spec = {"timeout": directives.positive_int}

    def run(self) -> list[nodes.Node]:
        """Run the script (or not) and return the block.

        Returns
        -------
        list of docutils.nodes.Node
            One literal block.
        """
        relative, absolute = self.env.relfn2path(self.arguments[0], self.env.docname)
        script = Path(absolute)
        if not script.is_file():
            raise self.error(f"script-output: {relative} does not exist")
        self.env.note_dependency(relative)
        root = Path(self.env.srcdir).parent
        if not self.config.script_output_run:
            command = f"python {script.relative_to(root).as_posix()}"
            text = f"(not run in this build: {command} prints its output here)"
        else:
            try:
                result = subprocess.run(
                    [sys.executable, str(script)],
                    capture_output=True,
                    text=True,
                    cwd=root,
                    timeout=self.options.get("timeout", 300),
                )
            except subprocess.TimeoutExpired as error:
                raise self.error(f"script-output: {relative} ran past {error.timeout} s") from error
            if result.returncode != 0:
                raise self.error(
                    f"script-output: {relative} exited with {result.returncode}:\n{result.stderr[-3000:]}"
                )
            text = result.stdout.rstrip()
        block = nodes.literal_block(text, text, language="none")
        self.set_source_info(block)
        return [block]


def setup(app: Sphinx) -> dict:
    """Register the directive and its ``script_output_run`` setting.

    Parameters
    ----------
    app : sphinx.application.Sphinx
        The Sphinx application.

    Returns
    -------
    dict
        The extension's metadata.
    """
    app.add_config_value("script_output_run", True, "env", types=frozenset({bool}))
    app.add_directive("script-output", ScriptOutput)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
