"""snnc.models: the ASA-SNN family in PyTorch, event data and training."""
