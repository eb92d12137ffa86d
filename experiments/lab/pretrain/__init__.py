"""Lab base model: byte-level BPE tokenizer and a small Llama pretrained from scratch on CPU.

Entry point: ``python -m experiments.lab.pretrain.train``. The lab needs a base model whose
every training token is known, so fine-tune effects can be attributed to the fine-tune alone.
"""
