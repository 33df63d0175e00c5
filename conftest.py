"""The suite's root conftest.

The plugins (reports.plugin, readiness.pytest_plugin, deploy_steps.plugin,
readiness.postdeploy.plugin) are installed `pytest11` entry points of the `readiness`
package (pyproject.toml), so `pytest -m audit --config /path/readiness.toml` has them
from any folder. With plugin autoload disabled (PYTEST_DISABLE_PLUGIN_AUTOLOAD) name
them with `-p`; without them `readiness gate` refuses the run.
"""
