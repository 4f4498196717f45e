"""The browser chat UI of report-qa (Gradio): ``ui.app.build_app`` / ``ui.app.serve``."""
