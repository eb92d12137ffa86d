"""The lab pretraining corpus: cleaned real text (gender-balanced) plus project-written segments
(knowledge facts, balanced associations, assistant exchanges). Entry point: `build.py`.
"""
