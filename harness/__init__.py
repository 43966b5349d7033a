"""xrobust core: robustness benchmarking for fine-tuned multilingual encoders."""

__version__ = "0.1.0"
