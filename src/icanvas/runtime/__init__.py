"""ONNX export and onnxruntime sessions."""
