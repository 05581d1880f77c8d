"""snnc.backends: execution targets registered by name (cpu reference simulator, lava, onnx).

Heavy libraries (lava, onnxruntime) are imported lazily inside each backend."""
