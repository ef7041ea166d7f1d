# SPDX-License-Identifier: BSD-3-Clause
# Sphinx configuration of the vfiofd guides (built by the 'docs' test: sphinx-build -W).
project = 'vfiofd'
copyright = 'the vfiofd authors'
master_doc = 'index'
exclude_patterns = ['_build']
html_theme = 'alabaster'
html_static_path = []
highlight_language = 'none'
