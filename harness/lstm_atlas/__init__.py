"""LSTM Error Atlas: TensorFlow/Keras LSTM failure modes as executable YAML cases."""

__version__ = "0.1.0"
