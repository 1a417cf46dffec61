"""Reports: the weekly update and the governance pack, computed apart from their rendering.

`weekly` computes an update, `weekly_render` writes it as JSON, Markdown or HTML, `html`
is the one page shell (stylesheet and frame) shared with the dashboard's downloads.
Imports subjects, engine, storage and the shared helpers.
"""
