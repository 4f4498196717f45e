"""The browser chat UI of report-qa (Gradio): ``ui.app.build_app`` / ``ui.app.serve``.
May import only ``qa``'s public API (``from qa import …``, the names in ``qa.__all__``) and ``ui`` itself."""
