"""The TensorFlow-free path (``data_pipelines.images``, ``numpy_pipeline``): conversions and
batches bit for bit the tf.data pipeline's, and the default training run with TensorFlow made
unimportable."""

import itertools
import os
import subprocess
import sys

import numpy as np
import pytest

import data_pipelines
from data_pipelines import images, numpy_pipeline, pipeline

tf = pipeline.tf


@pytest.mark.parametrize(
  ("shape", "resolution", "channels"),
  [
    ((8, 8, 1), 32, 1),  # The digits as the default config sees them.
    ((8, 8, 1), 28, 3),  # Upsampling by a non-integer factor, grey to RGB.
    ((64, 64, 3), 72, 3),  # The scenes at a pix2pix load size.
    ((64, 64, 3), 48, 1),  # Antialiased shrinking, then luma.
    ((37, 53, 3), 30, 3),  # Odd, non-square sizes.
    ((300, 200, 3), 256, 3),  # A folder photo, both ways.
    ((16, 16, 3), 16, 1),  # Luma alone.
    ((16, 16, 1), 16, 3),  # Grey to RGB alone.
  ],
)
def test_the_conversion_is_the_pipeline_s_bit_for_bit(shape, resolution, channels):
  x = np.random.default_rng(sum(shape)).integers(0, 256, (3, *shape), dtype=np.uint8)
  ours = images.to_model_range(x, resolution, channels)
  theirs = pipeline.to_model_range(tf.constant(x), resolution, channels).numpy()
  assert ours.dtype == np.float32 and ours.shape == theirs.shape
  np.testing.assert_array_equal(ours.view(np.uint32), theirs.view(np.uint32))


def test_a_two_channel_image_is_refused():
  with pytest.raises(data_pipelines.DatasetError, match="2-channel"):
    images.to_model_range(np.zeros((1, 4, 4, 2), np.uint8), 4, 3)


def _same_batches(ours, theirs, steps=50):
  for step, (a, b) in enumerate(itertools.islice(zip(ours, theirs, strict=False), steps)):
    assert a.keys() == b.keys(), step
    for key in a:
      assert a[key].dtype == b[key].dtype and a[key].shape == b[key].shape, (step, key)
      assert a[key].tobytes() == b[key].tobytes(), (step, key)


@pytest.mark.parametrize(
  ("dataset", "arguments"),
  [
    ("digits", {"global_batch": 64, "resolution": 32, "channels": 1}),
    # A later stage of a growing run, process 1 of 2.
    (
      "digits",
      {
        "global_batch": 32,
        "resolution": 16,
        "channels": 3,
        "start_step": 7,
        "origin": (5, 320),
        "process_index": 1,
        "process_count": 2,
      },
    ),  # fmt: skip
    ("ring8", {"global_batch": 100}),
    ("landscapes", {"global_batch": 8, "resolution": 32, "channels": 3}),
  ],
)
def test_fifty_steps_of_batches_are_tf_data_s(dataset, arguments):
  source = data_pipelines.build_source(dataset)
  arguments = {"seed": 3, **arguments}
  _same_batches(numpy_pipeline.batches(source, **arguments), pipeline.batches(source, **arguments))


@pytest.mark.parametrize(
  ("dataset", "arguments"),
  [
    ("scenes", {"resolution": 72, "channels": (3, 3), "input_noise": (0.25, 0.5)}),
    ("scenes_unpaired", {"resolution": 64, "channels": (3, 1), "start_step": 3}),
  ],
)
def test_fifty_steps_of_pairs_are_tf_data_s(dataset, arguments):
  source = data_pipelines.build_source(dataset)
  arguments = {"seed": 1, "global_batch": 2, **arguments}
  _same_batches(
    numpy_pipeline.pair_batches(source, **arguments), pipeline.pair_batches(source, **arguments)
  )


def test_the_default_run_trains_with_tensorflow_unimportable(tmp_path):
  """``sys.modules["tensorflow"] = None`` makes every ``import tensorflow`` fail."""
  program = (
    "import sys\n"
    "sys.modules['tensorflow'] = None\n"
    "from gans_jax import main\n"
    f"code = main.main(['train', '--workdir', {str(tmp_path / 'run')!r},\n"
    "  '--config.num_steps=3', '--config.eval.protocol=none'])\n"
    "assert 'tensorflow' not in [m for m, v in sys.modules.items() if v is not None]\n"
    "sys.exit(code)\n"
  )
  env = {**os.environ, "JAX_PLATFORMS": "cpu"}
  done = subprocess.run([sys.executable, "-c", program], env=env, capture_output=True, text=True,
                        timeout=600)  # fmt: skip
  assert done.returncode == 0, done.stderr[-3000:]
  assert (tmp_path / "run" / "metrics.jsonl").exists()
