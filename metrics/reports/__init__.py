"""Reports: the weekly update and the governance pack, computed apart from their rendering.

`weekly` computes an update, `weekly_render` writes it as JSON, Markdown or HTML,
`governance_pack` lays out the governance review, and `html` is the one page shell
(stylesheet and frame) they and the dashboard's downloads share. Never imports Streamlit.
Imports subjects, engine, storage and the shared helpers.
"""
