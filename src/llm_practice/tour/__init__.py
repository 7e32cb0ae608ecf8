"""`llmp tour`: the tutorial's whole path run end to end on this machine, offline, with a report.

estimate -> chat -> prompt lint/compare -> knowledge base -> SFT LoRA -> reward model -> GRPO ->
eval before/after -> export to GGUF -> chat with the result. Each step is a real `llmp` command
run in a child process (`steps.py` lists them); a step whose command is not part of this build is
skipped with the reason, never faked. `runner.py` runs them, `report.py` writes the HTML report.
"""
