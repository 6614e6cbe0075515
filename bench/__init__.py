"""tapeflow's benchmarks: every workload timed for tapeflow, TensorFlow and PyTorch (and Keras
where the workload is Keras-level) in one run. `python -m bench --help`."""
