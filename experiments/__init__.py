"""The lab and the published figures: corpus building, fine-tune harness, evaluation scripts."""
