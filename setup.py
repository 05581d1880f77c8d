"""Package layout: the import package ``snnc`` is assembled from top-level folders.

``snnc`` -> snnc/, ``snnc.compiler`` -> compiler/, ``snnc.frontends`` -> frontends/,
``snnc.backends`` -> backends/, ``snnc.models`` -> models/. Everything else is in pyproject.toml.
"""

from setuptools import find_packages, setup

ROOTS = {
    "snnc": "snnc",
    "snnc.compiler": "compiler",
    "snnc.frontends": "frontends",
    "snnc.backends": "backends",
    "snnc.models": "models",
}

packages = []
for name, folder in ROOTS.items():
    packages.append(name)
    packages += [f"{name}.{sub}" for sub in find_packages(folder)]

# the event-driven conv kernel is compiled from source on first use (backends/cpu/event_conv.py)
# and the fused LIF training kernel likewise (models/fused_lif.py)
setup(packages=packages, package_dir=ROOTS,
      package_data={"snnc.backends.cpu": ["csrc/*.cpp"], "snnc.models": ["csrc/*.cpp"]})
