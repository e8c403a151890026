"""The data order: which example sits at each position of each step's global batch.

Position p of the run's example stream (step s, slot j of the global batch: p = s * B + j) holds
example ``perm_e[p mod N]`` where e = p div N is the epoch and ``perm_e`` a permutation drawn from
(seed, e). The batch at a step is therefore a pure function of (seed, step): a resumed run sees
exactly the batches an uninterrupted one would, and no iterator state needs saving. Each process
takes its own contiguous slice of the global batch, so the global batch does not depend on the
process count either.
"""

from __future__ import annotations

import functools

import numpy as np


@functools.lru_cache(maxsize=8)
def epoch_permutation(seed: int, epoch: int, num_examples: int, stream: int = 0) -> np.ndarray:
  """Permutation int64 [num_examples] of epoch ``epoch``; a pure function of its arguments.

  ``stream`` > 0 gives independent orders over the same seed (the second domain of unpaired
  data draws from stream 1).
  """
  entropy = [seed, epoch] if stream == 0 else [seed, epoch, stream]
  return np.random.default_rng(entropy).permutation(num_examples)


def example_indices(
  step: int,
  *,
  global_batch: int,
  num_examples: int,
  seed: int,
  process_index: int = 0,
  process_count: int = 1,
  stream: int = 0,
  first_step: int = 0,
  first_position: int = 0,
) -> np.ndarray:
  """Example indices int64 [global_batch // process_count] of this process at ``step`` (in the
  order of ``stream``, see ``epoch_permutation``).

  Steps from ``first_step`` on read the stream from ``first_position`` on (a training stage
  with its own batch size continues where the previous stages left off)."""
  if global_batch % process_count:
    raise ValueError(
      f"Global batch {global_batch} does not divide evenly over {process_count} processes."
    )
  local = global_batch // process_count
  start = first_position + (step - first_step) * global_batch
  positions = start + process_index * local + np.arange(local)
  epochs, offsets = np.divmod(positions, num_examples)
  indices = np.empty(local, np.int64)
  for epoch in np.unique(epochs):
    mask = epochs == epoch
    indices[mask] = epoch_permutation(seed, int(epoch), num_examples, stream)[offsets[mask]]
  return indices


def pair_indices(
  step: int,
  *,
  num_a: int,
  num_b: int,
  paired: bool,
  global_batch: int,
  seed: int,
  process_index: int = 0,
  process_count: int = 1,
) -> tuple[np.ndarray, np.ndarray]:
  """(A indices, B indices) int64 [global_batch // process_count] of a two-domain source at
  ``step``: the same ones when ``paired``, independent orders (streams 0 and 1) when not."""
  of = lambda num_examples, stream: example_indices(
    step, global_batch=global_batch, num_examples=num_examples, seed=seed,
    process_index=process_index, process_count=process_count, stream=stream,
  )  # fmt: skip
  indices_a = of(num_a, 0)
  return indices_a, (indices_a if paired else of(num_b, 1))
