"""The trained answer reader: its windows, torch model and ONNX export, runtime and shipped weights.
May import ``embeddings`` and ``qa.answers.reader`` itself; only training and the export import torch.
"""
