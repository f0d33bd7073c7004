"""Export: saved models in formats other runtimes read (ONNX), with what they need to decode."""
