"""The atlas as an installed package: where its library and published matrix are, `lstm-atlas run`
(the library on this install's TensorFlow) and `lstm-atlas matrix` (cases across TF versions with uv)."""
