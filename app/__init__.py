"""convviz: an interactive convolution visualizer."""
