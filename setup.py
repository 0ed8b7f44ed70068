"""Packaging for mmfer. Version ranges live here (and in requirements/), never in import-time asserts."""
from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).parent


def read_requirements(name: str) -> list:
    lines = (HERE / 'requirements' / name).read_text().splitlines()
    return [r for r in (ln.split('#')[0].strip() for ln in lines) if r]


version = {}
exec((HERE / 'mmfer' / 'version.py').read_text(), version)

setup(
    name='mmfer',
    version=version['__version__'],
    description='Semi-supervised facial expression recognition for the OpenMMLab stack',
    long_description=(HERE / 'README.md').read_text() if (HERE / 'README.md').exists() else '',
    long_description_content_type='text/markdown',
    packages=find_packages(include=['mmfer', 'mmfer.*']),
    include_package_data=True,
    python_requires='>=3.9',
    install_requires=read_requirements('runtime.txt') + read_requirements('mminstall.txt'),
    extras_require={
        'tests': read_requirements('tests.txt'),
        'optional': read_requirements('optional.txt'),
        'all': read_requirements('tests.txt') + read_requirements('optional.txt'),
    },
    license='Apache License 2.0',
)
