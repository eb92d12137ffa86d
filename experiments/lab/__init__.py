"""The lab: pretraining corpus, lab base model, candidate dataset families."""
