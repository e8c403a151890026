"""Training stages: stretches of steps that share one compiled step and one batch size.

Most families train in one stage. Progressive growing (Karras et al. 2018; StyleGAN v1) trains in
one stage per resolution: the stage of a new resolution first fades its layers in over
``fade_kimg`` thousand images, then trains them for ``stable_kimg`` (the first resolution has no
fade), each with its own batch size. WGAN's reference code trains the critic 100 times per
generator update for the first 25 updates and at every 500th (``d_steps_stages``): stretches of
steps that alternate between two programs. The loop compiles each program's step once, with the
stage as a static argument, and starts each stage's data where the images shown so far left off,
so the batch at every step is still a pure function of (seed, step).
"""

from __future__ import annotations

import bisect
import dataclasses
import math

from gans_jax import errors


@dataclasses.dataclass(frozen=True)
class Stage:
  """One stage of training.

  Attributes:
    index: position in the schedule.
    first_step: the first (generator) step of the stage.
    batch_size: global examples read per step (batch size x D steps).
    first_image: examples read before the stage (its data starts at this position).
    level: progressive growing's level (resolution 4 * 2^level); 0 for one-stage families.
    fade_steps: steps over which the level's new layers fade in (alpha 0 -> 1); 0 for none.
    learning_rate_scale: multiplies both optimizers' learning rates during the stage
      (per-resolution learning rates, ``optimizers.build_optimizer``).
    d_steps: D updates per step during the stage; 0: ``config.d_steps``.
    program: stages with the same program share one compiled step, so a family's step may read
      only the fields they share (``d_steps``, ``batch_size``); None: a program of its own
      (a step that reads ``first_step`` or ``index``, e.g. a fade-in's alpha).
  """

  index: int
  first_step: int
  batch_size: int
  first_image: int = 0
  level: int = 0
  fade_steps: int = 0
  learning_rate_scale: float = 1.0
  d_steps: int = 0
  program: int | None = None

  @property
  def program_key(self):
    """What the loop compiles one step for: the shared program, or this stage alone."""
    return ("stage", self.index) if self.program is None else ("program", self.program)

  def d_steps_of(self, config) -> int:
    """D updates per step during the stage."""
    return self.d_steps or config.d_steps


def single_stage(config) -> tuple[Stage, ...]:
  """The schedule of a family that does not grow: one stage for the whole run."""
  return (Stage(index=0, first_step=0, batch_size=config.batch_size * config.d_steps),)


def d_steps_stages(config) -> tuple[Stage, ...]:
  """``config.d_steps_schedule`` = (k, first, every) as stages: k D updates per G update for the
  first ``first`` G updates and at every ``every``-th one (0: never), ``config.d_steps``
  otherwise (martinarjovsky/WassersteinGAN's main.py: (100, 25, 500)), each a stretch of one
  of two programs over ``config.num_steps`` steps; a schedule of () is ``single_stage``.

  Raises:
    errors.ConfigError: for a schedule that is not three whole numbers with k >= 1.
  """
  schedule = tuple(config.d_steps_schedule)
  if not schedule:
    return single_stage(config)
  if len(schedule) != 3 or min(schedule) < 0 or schedule[0] < 1:
    raise errors.ConfigError(
      f"d_steps_schedule={schedule}: expected (D updates, for the first G updates, and every "
      "G update that is a multiple of), e.g. (100, 25, 500); () is off."
    )
  burst, first, every = (int(v) for v in schedule)

  def k_at(step: int) -> int:
    return burst if step < first or (every and step % every == 0) else config.d_steps

  stages, images, step = [], 0, 0
  while step < config.num_steps:
    k, end = k_at(step), step + 1
    while end < config.num_steps and k_at(end) == k:  # Runs are at most `every` steps long.
      end += 1
    batch = config.batch_size * k
    stages.append(
      Stage(len(stages), step, batch, images, d_steps=k, program=int(k != config.d_steps))
    )
    images, step = images + (end - step) * batch, end
  return tuple(stages) or single_stage(config)


def progressive_stages(config, num_levels: int) -> tuple[Stage, ...]:
  """The growing schedule of ``config.progressive`` for a network of ``num_levels`` levels.

  Fields read: ``initial_resolution``; ``stable_kimg`` and ``fade_kimg`` (thousands of real images
  per phase); ``initial_kimg``, the first resolution's training (NVlabs: stable_kimg);
  ``batch_sizes`` and ``learning_rates``, one entry per level (4x4 first; entries
  below the initial resolution are unused); the base rate is ``config.optim.g.learning_rate``.

  Raises:
    ValueError: naming the field when a schedule entry is missing or out of range.
  """
  section = config.progressive
  first_level = int(math.log2(section.initial_resolution)) - 2
  if not 0 <= first_level < num_levels or section.initial_resolution & (
    section.initial_resolution - 1
  ):
    raise errors.ConfigError(
      f"progressive.initial_resolution={section.initial_resolution} must be a power of two "
      f"between 4 and {4 * 2 ** (num_levels - 1)}."
    )
  for field in ("batch_sizes", "learning_rates"):
    if len(section[field]) != num_levels:
      raise errors.ConfigError(
        f"progressive.{field} has {len(section[field])} entries; it needs one per level 4x4 .. "
        f"{4 * 2 ** (num_levels - 1)}x{4 * 2 ** (num_levels - 1)}: {num_levels}."
      )
  stages, step, images = [], 0, 0
  for level in range(first_level, num_levels):
    batch = section.batch_sizes[level]
    if batch <= 0:
      raise errors.ConfigError(f"progressive.batch_sizes[{level}]={batch} must be positive.")
    fade = 0 if level == first_level else math.ceil(section.fade_kimg * 1000 / batch)
    kimg = section.initial_kimg if level == first_level else section.stable_kimg
    stable = math.ceil(kimg * 1000 / batch)
    scale = section.learning_rates[level] / config.optim.g.learning_rate
    stages.append(Stage(len(stages), step, batch, images, level, fade, scale))
    step, images = step + fade + stable, images + (fade + stable) * batch
  return tuple(stages)


def stage_at(stages: tuple[Stage, ...], step: int) -> Stage:
  """The stage that ``step`` belongs to (the last stage runs to the end of training)."""
  index = bisect.bisect_right([stage.first_step for stage in stages], step) - 1
  return stages[max(index, 0)]


def d_updates_before(stages: tuple[Stage, ...], step: int, config) -> int:
  """D updates done before ``step`` (each step does its stage's ``d_steps_of(config)``)."""
  ends = [stage.first_step for stage in stages[1:]] + [max(step, stages[-1].first_step)]
  return sum(
    (min(step, end) - stage.first_step) * stage.d_steps_of(config)
    for stage, end in zip(stages, ends, strict=True)
    if stage.first_step < step
  )
