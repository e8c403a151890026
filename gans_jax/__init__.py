"""gans_jax: classic GANs in JAX/Flax, faithful to the papers and exactly reproducible.

Importing the package is light: no TensorFlow (that lives in ``data_pipelines``).
"""

__version__ = "0.1.0"
