"""Wires the plugins together: verdict and reports, the core, the deploy phases."""

pytest_plugins = [
    "reports.plugin",
    "readiness.pytest_plugin",
    "deploy_steps.plugin",
    "readiness.postdeploy.plugin",
]
